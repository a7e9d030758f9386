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
        var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read);
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
        var tensor = torch.empty(entry.Shape, stored);
        CopyInto(tensor, data + entry.Begin, entry.ByteLength);
        if (dtype is { } wanted && wanted != stored)
        {
            var converted = tensor.to_type(wanted);
            tensor.Dispose();
            tensor = converted;
        }
        if (device is { } d && d.type != DeviceType.CPU)
        {
            var moved = tensor.to(d);
            tensor.Dispose();
            tensor = moved;
        }
        return tensor;
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
