using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;
using static TorchSharp.torch;

namespace NotebookTrainer.Tests.Checkpoints;

/// <summary>
/// Writes float32 tensors the way torch.save does (zip: archive/data.pkl as pickle protocol 2 with
/// torch._utils._rebuild_tensor_v2 and persistent storage ids, archive/data/&lt;n&gt; raw little-endian), so tests can
/// make .pt/.ckpt files from real module weights without Python.
/// </summary>
static class TorchSaveWriter
{
    public static void Write(string path, IReadOnlyList<(string Name, Tensor Tensor)> tensors)
    {
        var pickle = new MemoryStream();
        var w = new BinaryWriter(pickle);
        void Op(char c) => w.Write((byte)c);
        void Str(string s) { Op('X'); var b = Encoding.UTF8.GetBytes(s); w.Write(b.Length); w.Write(b); }
        void Int(long v) { Op('J'); w.Write(checked((int)v)); }
        void Global(string module, string name) { Op('c'); w.Write(Encoding.ASCII.GetBytes($"{module}\n{name}\n")); }

        w.Write((byte)0x80); w.Write((byte)2);
        Op('}');
        Op('(');
        for (var i = 0; i < tensors.Count; i++)
        {
            var (name, tensor) = tensors[i];
            Str(name);
            Global("torch._utils", "_rebuild_tensor_v2");
            Op('(');
            Op('('); Str("storage"); Global("torch", "FloatStorage"); Str(i.ToString()); Str("cpu"); Int(tensor.numel()); Op('t');
            Op('Q');
            Int(0);
            Op('('); foreach (var size in tensor.shape) Int(size); Op('t');
            Op('('); foreach (var stride in tensor.contiguous().stride()) Int(stride); Op('t');
            w.Write((byte)0x89);
            Global("collections", "OrderedDict"); Op(')'); Op('R');
            Op('t');
            Op('R');
        }
        Op('u');
        Op('.');
        w.Flush();

        using var zip = ZipFile.Open(path, ZipArchiveMode.Create);
        void Entry(string entry, byte[] bytes)
        {
            using var s = zip.CreateEntry("archive/" + entry, CompressionLevel.NoCompression).Open();
            s.Write(bytes);
        }
        Entry("data.pkl", pickle.ToArray());
        Entry("byteorder", Encoding.ASCII.GetBytes("little"));
        for (var i = 0; i < tensors.Count; i++)
        {
            var values = tensors[i].Tensor.detach().cpu().to(ScalarType.Float32).contiguous().data<float>().ToArray();
            var bytes = new byte[values.Length * 4];
            for (var j = 0; j < values.Length; j++) BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(j * 4), values[j]);
            Entry($"data/{i}", bytes);
        }
        Entry("version", Encoding.ASCII.GetBytes("3\n"));
    }
}
