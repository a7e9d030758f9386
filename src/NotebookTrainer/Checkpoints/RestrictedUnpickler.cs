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
/// </summary>
sealed class RestrictedUnpickler(string path, byte[] data)
{
    sealed record Global(string Module, string Name);
    sealed record Opaque(string What);
    sealed class Mark;

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
    readonly Dictionary<long, object?> memo = [];
    int position;

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
                case (byte)'.': return stack.Count == 1 ? stack[0] : Fail<object?>(at, "STOP with an unbalanced stack");
                case (byte)'(': stack.Add(new Mark()); break;
                case (byte)')': stack.Add(Array.Empty<object?>()); break;
                case (byte)']': stack.Add(new List<object?>()); break;
                case (byte)'}': stack.Add(new Dictionary<object, object?>()); break;
                case 0x8f: stack.Add(new List<object?>()); break; // EMPTY_SET
                case (byte)'N': stack.Add(null); break;
                case 0x88: stack.Add(true); break;
                case 0x89: stack.Add(false); break;
                case (byte)'K': stack.Add((long)ReadByte()); break;
                case (byte)'M': stack.Add((long)BinaryPrimitives.ReadUInt16LittleEndian(Read(2))); break;
                case (byte)'J': stack.Add((long)BinaryPrimitives.ReadInt32LittleEndian(Read(4))); break;
                case 0x8a: stack.Add(ReadLong(at, ReadByte())); break;
                case 0x8b: stack.Add(ReadLong(at, ReadLength(at, 4))); break;
                case (byte)'G': stack.Add(BinaryPrimitives.ReadDoubleBigEndian(Read(8))); break;
                case (byte)'X': stack.Add(Utf8(at, Read(ReadLength(at, 4)))); break;
                case 0x8c: stack.Add(Utf8(at, Read(ReadByte()))); break;
                case 0x8d: stack.Add(Utf8(at, Read(ReadLength(at, 8)))); break;
                case (byte)'T': stack.Add(Encoding.Latin1.GetString(Read(ReadLength(at, 4)))); break;
                case (byte)'U': stack.Add(Encoding.Latin1.GetString(Read(ReadByte()))); break;
                case (byte)'B': stack.Add(Read(ReadLength(at, 4)).ToArray()); break;
                case (byte)'C': stack.Add(Read(ReadByte()).ToArray()); break;
                case 0x8e: stack.Add(Read(ReadLength(at, 8)).ToArray()); break;
                case (byte)'q': Memoize(ReadByte()); break;
                case (byte)'r': Memoize(BinaryPrimitives.ReadUInt32LittleEndian(Read(4))); break;
                case 0x94: Memoize(memo.Count); break;
                case (byte)'h': stack.Add(Recall(at, ReadByte())); break;
                case (byte)'j': stack.Add(Recall(at, BinaryPrimitives.ReadUInt32LittleEndian(Read(4)))); break;
                case (byte)'c': stack.Add(Resolve(at, ReadLine(at), ReadLine(at))); break;
                case 0x93:
                {
                    var name = Pop(at) as string;
                    var module = Pop(at) as string;
                    stack.Add(module != null && name != null ? Resolve(at, module, name) : Fail<object?>(at, "STACK_GLOBAL without module and name strings"));
                    break;
                }
                case (byte)'t': stack.Add(PopMark(at).ToArray()); break;
                case 0x85: stack.Add(new[] { Pop(at) }); break;
                case 0x86: { var b = Pop(at); var a = Pop(at); stack.Add(new[] { a, b }); break; }
                case 0x87: { var c = Pop(at); var b = Pop(at); var a = Pop(at); stack.Add(new[] { a, b, c }); break; }
                case (byte)'a': { var item = Pop(at); AsList(at, Peek(at)).Add(item); break; }
                case (byte)'e': { var items = PopMark(at); AsList(at, Peek(at)).AddRange(items); break; }
                case 0x90: { var items = PopMark(at); AsList(at, Peek(at)).AddRange(items); break; } // ADDITEMS
                case 0x91: stack.Add(PopMark(at)); break; // FROZENSET
                case (byte)'s': { var value = Pop(at); var key = Pop(at); SetItem(at, Peek(at), key, value); break; }
                case (byte)'u':
                {
                    var items = PopMark(at);
                    if (items.Count % 2 != 0) Fail<object?>(at, "SETITEMS with an odd number of items");
                    var target = Peek(at);
                    for (var i = 0; i < items.Count; i += 2) SetItem(at, target, items[i], items[i + 1]);
                    break;
                }
                case (byte)'R': { var args = Pop(at); var callable = Pop(at); stack.Add(Call(at, callable, args)); break; }
                case 0x81: { var args = Pop(at); var cls = Pop(at); stack.Add(Call(at, cls, args)); break; } // NEWOBJ
                case 0x92: { Pop(at); var args = Pop(at); var cls = Pop(at); stack.Add(Call(at, cls, args)); break; } // NEWOBJ_EX
                case (byte)'b': Pop(at); Peek(at); break; // BUILD: object state is not needed for weights
                case (byte)'Q': stack.Add(PersistentLoad(at, Pop(at))); break;
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
        if (memo.Count > 10_000_000) Fail<object?>(position, "an absurd number of memo entries");
        memo[index] = Peek(position);
    }

    object? Recall(int at, long index) => memo.TryGetValue(index, out var value) ? value : Fail<object?>(at, $"memo entry {index} used before it was set");

    object? Pop(int at)
    {
        if (stack.Count == 0 || stack[^1] is Mark) return Fail<object?>(at, "stack underflow");
        var top = stack[^1];
        stack.RemoveAt(stack.Count - 1);
        return top;
    }

    object? Peek(int at) => stack.Count == 0 || stack[^1] is Mark ? Fail<object?>(at, "stack underflow") : stack[^1];

    List<object?> PopMark(int at)
    {
        var mark = stack.FindLastIndex(x => x is Mark);
        if (mark < 0) return Fail<List<object?>>(at, "no MARK on the stack");
        var items = stack.GetRange(mark + 1, stack.Count - mark - 1);
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
