using System.IO.Compression;
using System.Text;
using NotebookTrainer.SafeTensors;
using TorchSharp;
using static TorchSharp.torch;

namespace NotebookTrainer.Checkpoints;

/// <summary>
/// Reads tensors from a PyTorch zip checkpoint (.ckpt/.pt/.bin written by torch.save since 1.6) without executing
/// anything: <c>data.pkl</c> is interpreted by <see cref="RestrictedUnpickler"/>, which only knows the globals a
/// weights file needs, and each tensor is rebuilt from its <c>data/&lt;key&gt;</c> entry. The pre-1.6 format is refused.
/// </summary>
public sealed class PickleCheckpoint : ITensorSource
{
    readonly ZipArchive zip;
    readonly string prefix;
    readonly Dictionary<string, PickledTensor> tensors;

    PickleCheckpoint(string path, ZipArchive zip, string prefix, Dictionary<string, PickledTensor> tensors)
    {
        Path = path;
        this.zip = zip;
        this.prefix = prefix;
        this.tensors = tensors;
    }

    public string Path { get; }
    public IReadOnlyCollection<string> Names => tensors.Keys;
    public IReadOnlyDictionary<string, string> Metadata { get; } = new Dictionary<string, string>();
    public long[] Shape(string name) => tensors[name].Size;
    public string DType(string name) => tensors[name].Storage.DType;

    const string ConvertHint = "Convert it once with a trusted PyTorch: safetensors.torch.save_file(torch.load(path, weights_only=True)[\"state_dict\"], \"model.safetensors\").";

    /// <summary>
    /// True for a zip (PK) start or the legacy torch.save start (pickle protocol 2 opening with its magic number),
    /// whatever the extension says. A safetensors file can start with the same bytes as its header length, so one
    /// whose byte 8 opens a JSON header is not taken for a pickle.
    /// </summary>
    public static bool LooksLikePickle(string path)
    {
        Span<byte> head = stackalloc byte[9];
        using var stream = IO.UntrustedFile.OpenRead(path, long.MaxValue, nameof(IO.InputLimits.MaxZipTotalBytes));
        if (stream.ReadAtLeast(head, head.Length, throwOnEndOfStream: false) < head.Length) return false;
        return head[..4].SequenceEqual("PK\u0003\u0004"u8) || IsLegacyStart(head);
    }

    static bool IsLegacyStart(ReadOnlySpan<byte> head) => head[0] == 0x80 && head[1] is >= 2 and <= 5 && head[2] == 0x8a && head[8] != (byte)'{';

    public static PickleCheckpoint Open(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: no such checkpoint file.", path);
        var limits = IO.InputLimits.Current;
        var file = IO.UntrustedFile.OpenRead(path, long.MaxValue, nameof(IO.InputLimits.MaxZipTotalBytes));
        var head = new byte[9];
        file.ReadAtLeast(head, head.Length, throwOnEndOfStream: false);
        file.Position = 0;
        if (IsLegacyStart(head))
        {
            file.Dispose();
            throw new CheckpointFormatException($"{path}: legacy torch.save format (PyTorch before 1.6) is not read, because reading it safely needs the whole pickle machinery. {ConvertHint}");
        }
        ZipArchive zip;
        try
        {
            zip = new ZipArchive(file, ZipArchiveMode.Read, leaveOpen: false);
            _ = zip.Entries;   // the central directory is read here, and may be damaged
        }
        catch (InvalidDataException e)
        {
            file.Dispose();
            throw new CheckpointFormatException($"{path}: not a PyTorch zip checkpoint ({IO.Printable.Escape(e.Message)}).");
        }
        try
        {
            var pickles = zip.Entries.Where(e => e.FullName == "data.pkl" || e.FullName.EndsWith("/data.pkl", StringComparison.Ordinal)).ToList();
            if (pickles.Count != 1)
                throw new CheckpointFormatException($"{path}: expected one data.pkl in the zip, found {pickles.Count}; not a torch.save checkpoint.");
            var prefix = pickles[0].FullName[..^"data.pkl".Length];
            if (zip.GetEntry(prefix + "byteorder") is { } order && ReadText(order) is var byteOrder && byteOrder != "little")
                throw new CheckpointFormatException($"{path}: tensors are stored {byteOrder}-endian; only little-endian checkpoints are read. {ConvertHint}");
            if (pickles[0].Length > limits.MaxPickleBytes)
                throw new CheckpointFormatException($"{path}: data.pkl is {pickles[0].Length:N0} bytes, more than the {IO.InputLimits.Describe(limits.MaxPickleBytes, nameof(IO.InputLimits.MaxPickleBytes))} any weights file needs.");
            var pickle = new byte[pickles[0].Length];
            try
            {
                using var stream = pickles[0].Open();
                stream.ReadExactly(pickle);
            }
            catch (Exception e) when (e is EndOfStreamException or InvalidDataException or IOException)
            {
                throw new CheckpointFormatException($"{path}: data.pkl is damaged in the zip ({IO.Printable.Escape(e.Message)}); re-download the file.");
            }
            var root = new RestrictedUnpickler(path, pickle, limits.MaxPickleMemoryBytes).Load();
            var tensors = StateDict(path, root);
            foreach (var (name, tensor) in tensors)
                Validate(path, zip, prefix, name, tensor, limits);
            return new PickleCheckpoint(path, zip, prefix, tensors);
        }
        catch
        {
            zip.Dispose();
            throw;
        }
    }

    /// <summary>Lightning checkpoints wrap the weights in "state_dict"; plain torch.save(state_dict) files are the dict itself.</summary>
    static Dictionary<string, PickledTensor> StateDict(string path, object? root)
    {
        if (root is not Dictionary<object, object?> dict)
            throw new CheckpointFormatException($"{path}: the pickle holds a {RestrictedUnpickler.Describe(root)}, not a dict of tensors.");
        if (dict.TryGetValue("state_dict", out var inner) && inner is Dictionary<object, object?> stateDict) dict = stateDict;
        var tensors = new Dictionary<string, PickledTensor>(StringComparer.Ordinal);
        foreach (var (key, value) in dict)
            if (key is string name && value is PickledTensor tensor)
                tensors[name] = tensor;
        if (tensors.Count == 0)
            throw new CheckpointFormatException($"{path}: the pickle has no tensors (keys: {string.Join(", ", dict.Keys.Take(8))}).");
        return tensors;
    }

    static void Validate(string path, ZipArchive zip, string prefix, string name, PickledTensor tensor, IO.InputLimits limits)
    {
        var shown = IO.Printable.Escape(name);
        var entry = zip.GetEntry(prefix + "data/" + tensor.Storage.Key)
            ?? throw new CheckpointFormatException($"{path}: tensor '{shown}' points at storage '{IO.Printable.Escape(tensor.Storage.Key)}', which the zip does not contain (truncated file?).");
        // torch.save stores tensors uncompressed; a storage that claims to inflate far beyond its packed size would only allocate.
        if (entry.Length > 1L << 20 && entry.Length > (long)limits.MaxZipCompressionRatio * Math.Max(1, entry.CompressedLength))
            throw new CheckpointFormatException($"{path}: storage of tensor '{shown}' declares {entry.Length:N0} bytes packed into {entry.CompressedLength:N0}; weights do not compress like that (a zip bomb?).");
        var elementSize = SafeTensorsDType.ElementSize(tensor.Storage.DType);
        var storageElements = entry.Length / elementSize;
        if (tensor.Size.Length != tensor.Stride.Length || tensor.Size.Any(d => d < 0) || tensor.Stride.Any(s => s < 0) || tensor.Offset < 0)
            throw new CheckpointFormatException($"{path}: tensor '{shown}' has an invalid size/stride/offset.");
        long extent;
        try
        {
            extent = tensor.Size.Any(d => d == 0) ? 0 : checked(tensor.Offset + tensor.Size.Zip(tensor.Stride, (d, s) => checked((d - 1) * s)).Sum() + 1);
        }
        catch (OverflowException)
        {
            throw new CheckpointFormatException($"{path}: tensor '{shown}' has a size/stride that overflows.");
        }
        if (extent > storageElements)
            throw new CheckpointFormatException($"{path}: tensor '{shown}' reaches element {extent} of storage '{tensor.Storage.Key}', which has {storageElements} (truncated file?).");
    }

    public Tensor Load(string name, ScalarType? dtype = null)
    {
        var tensor = tensors.TryGetValue(name, out var t) ? t : throw new KeyNotFoundException($"{Path}: no tensor named '{name}'.");
        var storageType = SafeTensorsDType.ToScalarType(tensor.Storage.DType)!.Value;
        var entry = zip.GetEntry(prefix + "data/" + tensor.Storage.Key)!;
        var elementSize = SafeTensorsDType.ElementSize(tensor.Storage.DType);
        using var storage = torch.empty(entry.Length / elementSize, storageType);
        using (var stream = entry.Open())
        {
            const long chunk = 1 << 28;
            for (long start = 0; start < storage.shape[0]; start += chunk / elementSize)
            {
                using var part = storage.narrow(0, start, Math.Min(chunk / elementSize, storage.shape[0] - start));
                stream.ReadExactly(part.bytes);
            }
        }
        using var view = storage.as_strided(tensor.Size, tensor.Stride, tensor.Offset);
        var result = view.is_contiguous() ? view.clone() : view.contiguous();
        if (dtype is { } wanted && wanted != storageType)
        {
            var converted = result.to_type(wanted);
            result.Dispose();
            result = converted;
        }
        return result;
    }

    static string ReadText(ZipArchiveEntry entry)
    {
        using var reader = new StreamReader(entry.Open(), Encoding.UTF8);
        return reader.ReadToEnd().Trim();
    }

    public void Dispose() => zip.Dispose();
}
