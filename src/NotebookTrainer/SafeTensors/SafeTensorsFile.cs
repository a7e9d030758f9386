using System.IO.MemoryMappedFiles;
using System.Security.Cryptography;
using TorchSharp;
using static TorchSharp.torch;

namespace NotebookTrainer.SafeTensors;

/// <summary>
/// A safetensors file opened read-only and memory-mapped. The header is validated on open;
/// <see cref="Load"/> copies one tensor straight from the mapping into a new tensor, so a 2 GB checkpoint never
/// sits in managed memory.
/// </summary>
public sealed unsafe class SafeTensorsFile : IDisposable
{
    readonly MemoryMappedFile map;
    readonly MemoryMappedViewAccessor view;
    readonly byte* data;
    readonly Dictionary<string, SafeTensorsEntry> entries;
    bool disposed;

    SafeTensorsFile(string path, SafeTensorsHeader header, long headerLength, MemoryMappedFile map, MemoryMappedViewAccessor view)
    {
        Path = path;
        Header = header;
        HeaderLength = headerLength;
        this.map = map;
        this.view = view;
        entries = header.Entries.ToDictionary(e => e.Name, StringComparer.Ordinal);
        byte* start = null;
        view.SafeMemoryMappedViewHandle.AcquirePointer(ref start);
        data = start + view.PointerOffset + 8 + headerLength;
    }

    public string Path { get; }

    public SafeTensorsHeader Header { get; }

    /// <summary>Length of the JSON header; the data region starts at byte 8 + HeaderLength.</summary>
    public long HeaderLength { get; }

    public IReadOnlyDictionary<string, string> Metadata => Header.Metadata;

    public IReadOnlyDictionary<string, SafeTensorsEntry> Entries => entries;

    public IEnumerable<string> Names => Header.Entries.Select(e => e.Name);

    public static SafeTensorsFile Open(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: no such safetensors file.", path);
        var stream = IO.UntrustedFile.OpenRead(path, long.MaxValue, nameof(IO.InputLimits.MaxSafeTensorsHeaderBytes));
        try
        {
            var header = SafeTensorsHeader.Read(path, stream, out var headerLength);
            var map = MemoryMappedFile.CreateFromFile(stream, null, 0, MemoryMappedFileAccess.Read, HandleInheritability.None, leaveOpen: false);
            var view = map.CreateViewAccessor(0, 0, MemoryMappedFileAccess.Read);
            return new SafeTensorsFile(path, header, headerLength, map, view);
        }
        catch
        {
            stream.Dispose();
            throw;
        }
    }

    public bool Contains(string name) => entries.ContainsKey(name);

    /// <summary>
    /// Reads tensor <paramref name="name"/>. With <paramref name="dtype"/> the stored type is converted directly
    /// (F16 stored and F16 asked costs one copy; F16 to BF16 never passes through F32).
    /// </summary>
    public Tensor Load(string name, ScalarType? dtype = null, Device? device = null)
    {
        var entry = Entry(name);
        var stored = SafeTensorsDType.ToScalarType(entry.DType)
            ?? throw new NotSupportedException($"{Path}: tensor '{name}' is {entry.DType}, which TorchSharp cannot represent; convert the file to F16/BF16/F32 first.");
        if (stored is ScalarType.Float16 or ScalarType.BFloat16 && dtype == ScalarType.Float32)
            return ToDevice(WidenToFloat32(entry, stored), device);
        var tensor = torch.empty(entry.Shape, stored);
        CopyInto(tensor, data + entry.Begin, entry.ByteLength);
        if (dtype is { } wanted && wanted != stored)
        {
            var converted = tensor.to_type(wanted);
            tensor.Dispose();
            tensor = converted;
        }
        return ToDevice(tensor, device);
    }

    static Tensor ToDevice(Tensor tensor, Device? device)
    {
        if (device is not { } d || d.type == DeviceType.CPU) return tensor;
        var moved = tensor.to(d);
        tensor.Dispose();
        return moved;
    }

    /// <summary>
    /// The common fp16/bf16 file → fp32 weights case, converted while copying out of the mapping: no half-precision
    /// intermediate tensor, so peak memory is the fp32 result alone.
    /// </summary>
    Tensor WidenToFloat32(SafeTensorsEntry entry, ScalarType stored)
    {
        var tensor = torch.empty(entry.Shape, ScalarType.Float32);
        if (entry.ElementCount == 0) return tensor;
        using var flat = tensor.view(-1);
        var source = data + entry.Begin;
        const long chunk = 1L << 26;
        for (long start = 0; start < entry.ElementCount; start += chunk)
        {
            var count = (int)Math.Min(chunk, entry.ElementCount - start);
            using var part = flat.narrow(0, start, count);
            var target = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(part.bytes);
            if (stored == ScalarType.Float16)
                System.Numerics.Tensors.TensorPrimitives.ConvertToSingle(new ReadOnlySpan<Half>((Half*)source + start, count), target);
            else
                WidenBFloat16(new ReadOnlySpan<ushort>((ushort*)source + start, count), System.Runtime.InteropServices.MemoryMarshal.Cast<float, uint>(target));
        }
        return tensor;
    }

    /// <summary>bfloat16 is the top half of a float32: widening is a 16-bit shift.</summary>
    static void WidenBFloat16(ReadOnlySpan<ushort> source, Span<uint> target)
    {
        for (var i = 0; i < source.Length; i++) target[i] = (uint)source[i] << 16;
    }

    /// <summary>The stored bytes of one tensor, valid while this file is open.</summary>
    public ReadOnlySpan<byte> GetRawBytes(string name)
    {
        var entry = Entry(name);
        if (entry.ByteLength > int.MaxValue)
            throw new NotSupportedException($"{Path}: tensor '{name}' is {entry.ByteLength} bytes, too large for one span; use Load.");
        return new ReadOnlySpan<byte>(data + entry.Begin, (int)entry.ByteLength);
    }

    /// <summary>
    /// SHA-256 (lower-case hex) of the data region, i.e. the bytes after 8 + header length.
    /// This is kohya's <c>sshs_model_hash</c>: it does not change when only metadata changes.
    /// </summary>
    public static string DataSha256(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20);
        SafeTensorsHeader.Read(path, stream, out var headerLength);
        stream.Position = 8 + headerLength;
        return Convert.ToHexStringLower(SHA256.HashData(stream));
    }

    SafeTensorsEntry Entry(string name)
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        return entries.TryGetValue(name, out var entry)
            ? entry
            : throw new KeyNotFoundException($"{Path}: no tensor named '{name}' ({entries.Count} tensors in the file).");
    }

    /// <summary>Copies in chunks so tensors larger than a span (2 GB) load too.</summary>
    static void CopyInto(Tensor tensor, byte* source, long byteLength)
    {
        if (byteLength == 0) return;
        using var flat = tensor.view(-1);
        var elementSize = tensor.ElementSize;
        var chunkElements = (1L << 30) / elementSize;
        var total = flat.shape[0];
        for (long start = 0; start < total; start += chunkElements)
        {
            var count = Math.Min(chunkElements, total - start);
            using var part = flat.narrow(0, start, count);
            new ReadOnlySpan<byte>(source + start * elementSize, (int)(count * elementSize)).CopyTo(part.bytes);
        }
    }

    public void Dispose()
    {
        if (disposed) return;
        disposed = true;
        view.SafeMemoryMappedViewHandle.ReleasePointer();
        view.Dispose();
        map.Dispose();
    }
}
