using System.Buffers.Binary;
using System.Numerics;
using System.Text;

namespace NotebookTrainer.Checkpoints;

/// <summary>A storage a tensor points at: <c>data/&lt;Key&gt;</c> in the zip, holding elements of <see cref="DType"/>.</summary>
public sealed record PickledStorage(string Key, string DType);

/// <summary>What <c>torch._utils._rebuild_tensor_v2</c> would build, described instead of built.</summary>
public sealed record PickledTensor(PickledStorage Storage, long Offset, long[] Size, long[] Stride);

/// <summary>
/// A pickle interpreter that never calls anything. It understands the opcodes torch.save emits and a fixed list of
/// globals: the tensor-rebuild functions and storage types (which become <see cref="PickledTensor"/> descriptions),
/// OrderedDict, and a few inert helpers Lightning checkpoints carry around the weights (callbacks, numpy scalars),
/// which become opaque placeholders. Any other global (os.system, builtins.eval, …) stops the read.
/// Memory is bounded by what the pickle builds, not by its size: every object, string, container slot and memo entry
/// is charged its managed size as it is made, and the read stops past <paramref name="memoryBudget"/> bytes (a few
/// bytes of pickle can otherwise make a 100-byte object). MARKs are kept apart from the stack, so no instruction costs
/// more than its own items.
/// </summary>
sealed class RestrictedUnpickler(string path, byte[] data, long memoryBudget)
{
    sealed record Global(string Module, string Name);
    sealed record Opaque(string What);

    // Approximate managed sizes on 64-bit .NET: object header + fields, a reference, a dictionary entry.
    const long ObjectBytes = 32, ReferenceBytes = 8, EntryBytes = 48, ContainerBytes = 96;

    static readonly Dictionary<string, string> StorageTypes = new(StringComparer.Ordinal)
    {
        ["FloatStorage"] = "F32", ["HalfStorage"] = "F16", ["BFloat16Storage"] = "BF16", ["DoubleStorage"] = "F64",
        ["LongStorage"] = "I64", ["IntStorage"] = "I32", ["ShortStorage"] = "I16", ["CharStorage"] = "I8",
        ["ByteStorage"] = "U8", ["BoolStorage"] = "BOOL",
    };

    static readonly HashSet<string> TensorGlobals = new(StringComparer.Ordinal)
    {
        "collections.OrderedDict", "torch._utils._rebuild_tensor_v2", "torch._utils._rebuild_tensor",
        "torch._utils._rebuild_parameter", "torch._utils._rebuild_parameter_with_state",
    };

    /// <summary>Globals that only ever describe training state around the weights; they are recorded, never called.</summary>
    static bool IsInert(string module, string name) =>
        module.StartsWith("pytorch_lightning.", StringComparison.Ordinal) || module.StartsWith("lightning.", StringComparison.Ordinal)
        || (module is "numpy" or "numpy.core.multiarray" or "numpy._core.multiarray" && name is "dtype" or "scalar" or "_reconstruct" or "ndarray")
        || (module is "builtins" or "__builtin__" && name is "set" or "frozenset" or "slice")
        || (module == "_codecs" && name == "encode")
        || (module == "torch" && name is "device" or "Size" or "float32" or "float16" or "bfloat16")
        || (module == "argparse" && name == "Namespace");

    readonly List<object?> stack = [];
    readonly List<int> marks = [];
    readonly Dictionary<long, object?> memo = [];
    int position;
    long charged;

    void Charge(int at, long bytes)
    {
        charged += bytes;
        if (charged > memoryBudget)
            Fail<object?>(at, $"it would build more than {IO.InputLimits.Describe(memoryBudget, nameof(IO.InputLimits.MaxPickleMemoryBytes))} of objects, far more than a weights file describes");
    }

    void Push(int at, object? value, long bytes = 0)
    {
        Charge(at, ReferenceBytes + bytes);
        stack.Add(value);
    }

    static long SizeOf(object? value) => value switch
    {
        null or bool => 0,
        string s => ObjectBytes + 2L * s.Length,
        byte[] b => ObjectBytes + b.Length,
        object?[] a => ObjectBytes + ReferenceBytes * a.Length,
        List<object?> or Dictionary<object, object?> => ContainerBytes,
        long[] l => ObjectBytes + 8L * l.Length,
        _ => ObjectBytes,
    };

    void PushNew(int at, object? value) => Push(at, value, SizeOf(value));

    public object? Load()
    {
        while (true)
        {
            var at = position;
            var op = ReadByte();
            switch (op)
            {
                case 0x80: ReadByte(); break; // PROTO
                case 0x95: Read(8); break; // FRAME
                case (byte)'.': return stack.Count == 1 && marks.Count == 0 ? stack[0] : Fail<object?>(at, "STOP with an unbalanced stack");
                case (byte)'(': Charge(at, ReferenceBytes); marks.Add(stack.Count); break;
                case (byte)')': PushNew(at, Array.Empty<object?>()); break;
                case (byte)']': PushNew(at, new List<object?>()); break;
                case (byte)'}': PushNew(at, new Dictionary<object, object?>()); break;
                case 0x8f: PushNew(at, new List<object?>()); break; // EMPTY_SET
                case (byte)'N': PushNew(at, null); break;
                case 0x88: PushNew(at, true); break;
                case 0x89: PushNew(at, false); break;
                case (byte)'K': PushNew(at, (long)ReadByte()); break;
                case (byte)'M': PushNew(at, (long)BinaryPrimitives.ReadUInt16LittleEndian(Read(2))); break;
                case (byte)'J': PushNew(at, (long)BinaryPrimitives.ReadInt32LittleEndian(Read(4))); break;
                case 0x8a: PushNew(at, ReadLong(at, ReadByte())); break;
                case 0x8b: PushNew(at, ReadLong(at, ReadLength(at, 4))); break;
                case (byte)'G': PushNew(at, BinaryPrimitives.ReadDoubleBigEndian(Read(8))); break;
                case (byte)'X': PushNew(at, Utf8(at, Read(ReadLength(at, 4)))); break;
                case 0x8c: PushNew(at, Utf8(at, Read(ReadByte()))); break;
                case 0x8d: PushNew(at, Utf8(at, Read(ReadLength(at, 8)))); break;
                case (byte)'T': PushNew(at, Encoding.Latin1.GetString(Read(ReadLength(at, 4)))); break;
                case (byte)'U': PushNew(at, Encoding.Latin1.GetString(Read(ReadByte()))); break;
                case (byte)'B': PushNew(at, Read(ReadLength(at, 4)).ToArray()); break;
                case (byte)'C': PushNew(at, Read(ReadByte()).ToArray()); break;
                case 0x8e: PushNew(at, Read(ReadLength(at, 8)).ToArray()); break;
                case (byte)'q': Memoize(ReadByte()); break;
                case (byte)'r': Memoize(BinaryPrimitives.ReadUInt32LittleEndian(Read(4))); break;
                case 0x94: Memoize(memo.Count); break;
                case (byte)'h': Push(at, Recall(at, ReadByte())); break;
                case (byte)'j': Push(at, Recall(at, BinaryPrimitives.ReadUInt32LittleEndian(Read(4)))); break;
                case (byte)'c': PushNew(at, Resolve(at, ReadLine(at), ReadLine(at))); break;
                case 0x93:
                {
                    var name = Pop(at) as string;
                    var module = Pop(at) as string;
                    PushNew(at, module != null && name != null ? Resolve(at, module, name) : Fail<object?>(at, "STACK_GLOBAL without module and name strings"));
                    break;
                }
                case (byte)'t': Push(at, PopMark(at).ToArray()); break;
                case 0x85: PushNew(at, new[] { Pop(at) }); break;
                case 0x86: { var b = Pop(at); var a = Pop(at); PushNew(at, new[] { a, b }); break; }
                case 0x87: { var c = Pop(at); var b = Pop(at); var a = Pop(at); PushNew(at, new[] { a, b, c }); break; }
                case (byte)'a': { var item = Pop(at); Charge(at, 2 * ReferenceBytes); AsList(at, Peek(at)).Add(item); break; }
                case (byte)'e': { var items = PopMark(at); Charge(at, 2 * ReferenceBytes * items.Count); AsList(at, Peek(at)).AddRange(items); break; }
                case 0x90: { var items = PopMark(at); Charge(at, 2 * ReferenceBytes * items.Count); AsList(at, Peek(at)).AddRange(items); break; } // ADDITEMS
                case 0x91: Push(at, PopMark(at)); break; // FROZENSET
                case (byte)'s': { var value = Pop(at); var key = Pop(at); SetItem(at, Peek(at), key, value); break; }
                case (byte)'u':
                {
                    var items = PopMark(at);
                    if (items.Count % 2 != 0) Fail<object?>(at, "SETITEMS with an odd number of items");
                    var target = Peek(at);
                    for (var i = 0; i < items.Count; i += 2) SetItem(at, target, items[i], items[i + 1]);
                    break;
                }
                case (byte)'R': { var args = Pop(at); var callable = Pop(at); PushNew(at, Call(at, callable, args)); break; }
                case 0x81: { var args = Pop(at); var cls = Pop(at); PushNew(at, Call(at, cls, args)); break; } // NEWOBJ
                case 0x92: { Pop(at); var args = Pop(at); var cls = Pop(at); PushNew(at, Call(at, cls, args)); break; } // NEWOBJ_EX
                case (byte)'b': Pop(at); Peek(at); break; // BUILD: object state is not needed for weights
                case (byte)'Q': PushNew(at, PersistentLoad(at, Pop(at))); break;
                default:
                    return Fail<object?>(at, $"unsupported pickle opcode 0x{op:x2}");
            }
        }
    }

    object Resolve(int at, string module, string name)
    {
        var full = $"{module}.{name}";
        if (module == "torch" && StorageTypes.ContainsKey(name)) return new Global(module, name);
        if (TensorGlobals.Contains(full) || IsInert(module, name)) return new Global(module, name);
        throw new CheckpointFormatException($"{path}: the pickle refers to '{full}' (at byte {at} of data.pkl), which a weights file never needs; refusing to read it. Nothing was executed. Get a .safetensors version of this model instead.");
    }

    object? Call(int at, object? callable, object? args)
    {
        if (callable is not Global global) return Fail<object?>(at, $"call of a {Describe(callable)}");
        if (args is not object?[] a) return Fail<object?>(at, $"call of {global.Module}.{global.Name} without an argument tuple");
        switch ($"{global.Module}.{global.Name}")
        {
            case "collections.OrderedDict":
                return new Dictionary<object, object?>();
            case "torch._utils._rebuild_tensor_v2" or "torch._utils._rebuild_tensor":
                if (a.Length < 4 || a[0] is not PickledStorage storage || a[1] is not long offset || Longs(a[2]) is not { } size || Longs(a[3]) is not { } stride)
                    return Fail<object?>(at, "_rebuild_tensor arguments are not (storage, offset, size, stride, …)");
                return new PickledTensor(storage, offset, size, stride);
            case "torch._utils._rebuild_parameter" or "torch._utils._rebuild_parameter_with_state":
                return a.Length >= 1 && a[0] is PickledTensor data ? data : Fail<object?>(at, "_rebuild_parameter without a tensor");
            default:
                return new Opaque($"{global.Module}.{global.Name}");
        }
    }

    object PersistentLoad(int at, object? id)
    {
        if (id is object?[] { Length: >= 5 } t && t[0] is "storage" && t[1] is Global { Module: "torch" } type
            && StorageTypes.TryGetValue(type.Name, out var dtype) && t[2] is string key)
            return new PickledStorage(key, dtype);
        return Fail<object>(at, "a persistent id that is not ('storage', torch.<Type>Storage, key, location, size)");
    }

    static long[]? Longs(object? value) =>
        value is object?[] items && items.All(i => i is long) ? items.Select(i => (long)i!).ToArray() : null;

    void SetItem(int at, object? target, object? key, object? value)
    {
        Charge(at, EntryBytes);
        switch (target)
        {
            case Dictionary<object, object?> dict:
                dict[key ?? Fail<object>(at, "a None dict key")] = value;
                break;
            case Opaque:
                break;
            default:
                Fail<object?>(at, $"SETITEM on a {Describe(target)}");
                break;
        }
    }

    List<object?> AsList(int at, object? target) => target switch
    {
        List<object?> list => list,
        Opaque => [],
        _ => Fail<List<object?>>(at, $"APPEND on a {Describe(target)}"),
    };

    public static string Describe(object? value) => value switch
    {
        null => "None",
        Opaque o => $"{o.What} object",
        Global g => $"{g.Module}.{g.Name}",
        _ => value.GetType().Name,
    };

    void Memoize(long index)
    {
        Charge(position, EntryBytes);
        memo[index] = Peek(position);
    }

    object? Recall(int at, long index) => memo.TryGetValue(index, out var value) ? value : Fail<object?>(at, $"memo entry {index} used before it was set");

    bool AtMark => stack.Count == 0 || (marks.Count > 0 && marks[^1] == stack.Count);

    object? Pop(int at)
    {
        if (AtMark) return Fail<object?>(at, "stack underflow");
        var top = stack[^1];
        stack.RemoveAt(stack.Count - 1);
        return top;
    }

    object? Peek(int at) => AtMark ? Fail<object?>(at, "stack underflow") : stack[^1];

    List<object?> PopMark(int at)
    {
        if (marks.Count == 0) return Fail<List<object?>>(at, "no MARK on the stack");
        var mark = marks[^1];
        marks.RemoveAt(marks.Count - 1);
        Charge(at, ContainerBytes + ReferenceBytes * (stack.Count - mark));
        var items = stack.GetRange(mark, stack.Count - mark);
        stack.RemoveRange(mark, stack.Count - mark);
        return items;
    }

    byte ReadByte() => Read(1)[0];

    ReadOnlySpan<byte> Read(long count)
    {
        if (count < 0 || count > data.Length - position)
            Fail<object?>(position, "the pickle ends in the middle of an instruction (truncated file?)");
        var span = data.AsSpan(position, (int)count);
        position += (int)count;
        return span;
    }

    long ReadLength(int at, int bytes)
    {
        var raw = Read(bytes);
        var length = bytes == 4 ? BinaryPrimitives.ReadUInt32LittleEndian(raw) : (long)Math.Min(BinaryPrimitives.ReadUInt64LittleEndian(raw), long.MaxValue);
        return length <= data.Length - position ? length : Fail<long>(at, "a length that runs past the end of the pickle");
    }

    object ReadLong(int at, long bytes)
    {
        if (bytes > 9) return Fail<object>(at, "an integer wider than 64 bits");
        var value = new BigInteger(Read(bytes), isUnsigned: false, isBigEndian: false);
        return value >= long.MinValue && value <= long.MaxValue ? (long)value : Fail<object>(at, "an integer wider than 64 bits");
    }

    string ReadLine(int at)
    {
        var end = Array.IndexOf(data, (byte)'\n', position);
        if (end < 0) return Fail<string>(at, "GLOBAL without a newline");
        var line = Encoding.UTF8.GetString(data, position, end - position);
        position = end + 1;
        return line;
    }

    string Utf8(int at, ReadOnlySpan<byte> bytes) =>
        System.Text.Unicode.Utf8.IsValid(bytes) ? Encoding.UTF8.GetString(bytes) : Fail<string>(at, "a string that is not UTF-8");

    T Fail<T>(int at, string problem) =>
        throw new CheckpointFormatException($"{path}: data.pkl is not a weights pickle this reader accepts: {problem} at byte {at}.");
}
