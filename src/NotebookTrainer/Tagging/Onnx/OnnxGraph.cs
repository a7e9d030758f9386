using Google.Protobuf;

namespace NotebookTrainer.Tagging.Onnx;

/// <summary>An operator attribute: an int, a float, or a list of ints.</summary>
public abstract record OnnxAttribute(string Name)
{
    public sealed record Int(string Name, long Value) : OnnxAttribute(Name);
    public sealed record Float(string Name, float Value) : OnnxAttribute(Name);
    public sealed record Ints(string Name, long[] Values) : OnnxAttribute(Name);
}

public sealed record OnnxNode(string OpType, string[] Inputs, string[] Outputs, OnnxAttribute[] Attributes);

/// <summary>A float32 constant stored in the model.</summary>
public sealed record OnnxInitializer(string Name, long[] Dims, float[] Data);

/// <summary>A graph input or output: float32 with a shape whose entries are sizes or a symbolic name (e.g. "batch").</summary>
public sealed record OnnxValue(string Name, object[] Shape);

/// <summary>
/// A small ONNX graph written straight to the protobuf wire format (field numbers from onnx.proto: ModelProto,
/// GraphProto, NodeProto, AttributeProto, TensorProto, ValueInfoProto, TypeProto, TensorShapeProto, OperatorSetIdProto).
/// Enough for float32 feed-forward models such as the generated tiny tagger.
/// </summary>
public sealed class OnnxGraph
{
    const long IrVersion = 7;
    public const long OpsetVersion = 13;
    const int FloatType = 1;

    public string Name { get; }
    public List<OnnxNode> Nodes { get; } = [];
    public List<OnnxInitializer> Initializers { get; } = [];
    public List<OnnxValue> Inputs { get; } = [];
    public List<OnnxValue> Outputs { get; } = [];
    public Dictionary<string, string> Metadata { get; } = [];
    int counter;

    public OnnxGraph(string name) => Name = name;

    /// <summary>Adds a node with one output and returns the output's generated name.</summary>
    public string Add(string opType, string[] inputs, params OnnxAttribute[] attributes)
    {
        var output = $"{opType.ToLowerInvariant()}_{counter++}";
        Nodes.Add(new OnnxNode(opType, inputs, [output], attributes));
        return output;
    }

    public string Constant(string name, long[] dims, float[] data)
    {
        if (dims.Aggregate(1L, (a, b) => a * b) != data.Length)
            throw new ArgumentException($"initializer '{name}': dims [{string.Join(",", dims)}] hold {dims.Aggregate(1L, (a, b) => a * b)} values, data has {data.Length}.");
        Initializers.Add(new OnnxInitializer(name, dims, data));
        return name;
    }

    public byte[] ToBytes()
    {
        return Message(o =>
        {
            o.WriteTag(1, WireFormat.WireType.Varint); o.WriteInt64(IrVersion);
            o.WriteTag(2, WireFormat.WireType.LengthDelimited); o.WriteString("NotebookTrainer");
            o.WriteTag(3, WireFormat.WireType.LengthDelimited); o.WriteString(typeof(OnnxGraph).Assembly.GetName().Version?.ToString() ?? "0");
            o.WriteTag(7, WireFormat.WireType.LengthDelimited); o.WriteBytes(Graph());
            o.WriteTag(8, WireFormat.WireType.LengthDelimited);
            o.WriteBytes(Message(s =>
            {
                s.WriteTag(1, WireFormat.WireType.LengthDelimited); s.WriteString("");
                s.WriteTag(2, WireFormat.WireType.Varint); s.WriteInt64(OpsetVersion);
            }));
            foreach (var (key, value) in Metadata)
            {
                o.WriteTag(14, WireFormat.WireType.LengthDelimited);
                o.WriteBytes(Message(s =>
                {
                    s.WriteTag(1, WireFormat.WireType.LengthDelimited); s.WriteString(key);
                    s.WriteTag(2, WireFormat.WireType.LengthDelimited); s.WriteString(value);
                }));
            }
        }).ToByteArray();
    }

    public void Save(string path) => IO.AtomicFile.WriteAllBytes(path, ToBytes());

    ByteString Graph() => Message(o =>
    {
        foreach (var node in Nodes) { o.WriteTag(1, WireFormat.WireType.LengthDelimited); o.WriteBytes(Node(node)); }
        o.WriteTag(2, WireFormat.WireType.LengthDelimited); o.WriteString(Name);
        foreach (var init in Initializers) { o.WriteTag(5, WireFormat.WireType.LengthDelimited); o.WriteBytes(Tensor(init)); }
        foreach (var input in Inputs) { o.WriteTag(11, WireFormat.WireType.LengthDelimited); o.WriteBytes(ValueInfo(input)); }
        foreach (var output in Outputs) { o.WriteTag(12, WireFormat.WireType.LengthDelimited); o.WriteBytes(ValueInfo(output)); }
    });

    static ByteString Node(OnnxNode node) => Message(o =>
    {
        foreach (var i in node.Inputs) { o.WriteTag(1, WireFormat.WireType.LengthDelimited); o.WriteString(i); }
        foreach (var i in node.Outputs) { o.WriteTag(2, WireFormat.WireType.LengthDelimited); o.WriteString(i); }
        o.WriteTag(3, WireFormat.WireType.LengthDelimited); o.WriteString(node.Outputs[0] + "_node");
        o.WriteTag(4, WireFormat.WireType.LengthDelimited); o.WriteString(node.OpType);
        foreach (var a in node.Attributes) { o.WriteTag(5, WireFormat.WireType.LengthDelimited); o.WriteBytes(Attribute(a)); }
    });

    // AttributeProto.type values: FLOAT 1, INT 2, INTS 7.
    static ByteString Attribute(OnnxAttribute attribute) => Message(o =>
    {
        o.WriteTag(1, WireFormat.WireType.LengthDelimited); o.WriteString(attribute.Name);
        switch (attribute)
        {
            case OnnxAttribute.Float f:
                o.WriteTag(2, WireFormat.WireType.Fixed32); o.WriteFloat(f.Value);
                o.WriteTag(20, WireFormat.WireType.Varint); o.WriteInt32(1);
                break;
            case OnnxAttribute.Int i:
                o.WriteTag(3, WireFormat.WireType.Varint); o.WriteInt64(i.Value);
                o.WriteTag(20, WireFormat.WireType.Varint); o.WriteInt32(2);
                break;
            case OnnxAttribute.Ints ints:
                foreach (var v in ints.Values) { o.WriteTag(8, WireFormat.WireType.Varint); o.WriteInt64(v); }
                o.WriteTag(20, WireFormat.WireType.Varint); o.WriteInt32(7);
                break;
        }
    });

    static ByteString Tensor(OnnxInitializer t) => Message(o =>
    {
        foreach (var d in t.Dims) { o.WriteTag(1, WireFormat.WireType.Varint); o.WriteInt64(d); }
        o.WriteTag(2, WireFormat.WireType.Varint); o.WriteInt32(FloatType);
        o.WriteTag(8, WireFormat.WireType.LengthDelimited); o.WriteString(t.Name);
        // raw_data is little-endian float32, as on every platform .NET runs on here.
        var raw = new byte[t.Data.Length * 4];
        Buffer.BlockCopy(t.Data, 0, raw, 0, raw.Length);
        o.WriteTag(9, WireFormat.WireType.LengthDelimited); o.WriteBytes(ByteString.CopyFrom(raw));
    });

    static ByteString ValueInfo(OnnxValue v) => Message(o =>
    {
        o.WriteTag(1, WireFormat.WireType.LengthDelimited); o.WriteString(v.Name);
        o.WriteTag(2, WireFormat.WireType.LengthDelimited);
        o.WriteBytes(Message(type =>
        {
            type.WriteTag(1, WireFormat.WireType.LengthDelimited);
            type.WriteBytes(Message(tensor =>
            {
                tensor.WriteTag(1, WireFormat.WireType.Varint); tensor.WriteInt32(FloatType);
                tensor.WriteTag(2, WireFormat.WireType.LengthDelimited);
                tensor.WriteBytes(Message(shape =>
                {
                    foreach (var dim in v.Shape)
                    {
                        shape.WriteTag(1, WireFormat.WireType.LengthDelimited);
                        shape.WriteBytes(Message(d =>
                        {
                            if (dim is string symbol) { d.WriteTag(2, WireFormat.WireType.LengthDelimited); d.WriteString(symbol); }
                            else { d.WriteTag(1, WireFormat.WireType.Varint); d.WriteInt64(Convert.ToInt64(dim)); }
                        }));
                    }
                }));
            }));
        }));
    });

    static ByteString Message(Action<CodedOutputStream> write)
    {
        using var buffer = new MemoryStream();
        using (var o = new CodedOutputStream(buffer, leaveOpen: true)) { write(o); o.Flush(); }
        return ByteString.CopyFrom(buffer.GetBuffer(), 0, (int)buffer.Length);
    }
}
