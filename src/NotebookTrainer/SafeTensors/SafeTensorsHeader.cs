using System.Text.Json;

namespace NotebookTrainer.SafeTensors;

/// <summary>
/// Parses and validates a safetensors JSON header. Every way a header can be wrong ends in a
/// <see cref="SafeTensorsFormatException"/> naming the file, so a corrupt download never crashes or hangs a notebook.
/// </summary>
public sealed class SafeTensorsHeader
{

    public const string MetadataKey = "__metadata__";

    SafeTensorsHeader(IReadOnlyDictionary<string, string> metadata, IReadOnlyList<SafeTensorsEntry> entries)
    {
        Metadata = metadata;
        Entries = entries;
    }

    public IReadOnlyDictionary<string, string> Metadata { get; }

    /// <summary>Tensors in header order.</summary>
    public IReadOnlyList<SafeTensorsEntry> Entries { get; }

    /// <summary>Reads the 8-byte length and the header from the start of <paramref name="stream"/>.</summary>
    public static SafeTensorsHeader Read(string path, Stream stream, out long headerLength)
    {
        var fileLength = stream.Length;
        if (fileLength < 8)
            throw new SafeTensorsFormatException(path, $"the file is {fileLength} bytes, shorter than the 8-byte header length field (truncated download?)");
        Span<byte> lengthBytes = stackalloc byte[8];
        stream.Position = 0;
        stream.ReadExactly(lengthBytes);
        var declared = System.Buffers.Binary.BinaryPrimitives.ReadUInt64LittleEndian(lengthBytes);
        var maxHeader = IO.InputLimits.Current.MaxSafeTensorsHeaderBytes;
        if (declared > (ulong)maxHeader)
            throw new SafeTensorsFormatException(path, $"header length {declared} is larger than the {IO.InputLimits.Describe(maxHeader, nameof(IO.InputLimits.MaxSafeTensorsHeaderBytes))} limit (not a safetensors file, or corrupted)");
        if ((long)declared > fileLength - 8)
            throw new SafeTensorsFormatException(path, $"header length {declared} runs past the end of the file ({fileLength} bytes; truncated download?)");
        headerLength = (long)declared;
        var header = new byte[headerLength];
        stream.ReadExactly(header);
        return Parse(path, header, fileLength - 8 - headerLength);
    }

    /// <summary>Parses header bytes for a file whose data region is <paramref name="dataLength"/> bytes.</summary>
    public static SafeTensorsHeader Parse(string path, ReadOnlySpan<byte> header, long dataLength)
    {
        var end = header.Length;
        while (end > 0 && header[end - 1] is (byte)' ' or 0) end--;
        header = header[..end];
        if (header.Length == 0 || header[0] != (byte)'{')
            throw new SafeTensorsFormatException(path, "the header does not start with a JSON object '{' (not a safetensors file?)");
        // JsonDocument only checks UTF-8 when a string is read, which would surface as InvalidOperationException later.
        if (!System.Text.Unicode.Utf8.IsValid(header))
            throw new SafeTensorsFormatException(path, "the header is not valid UTF-8");

        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(header.ToArray(), new JsonDocumentOptions { MaxDepth = 16 });
        }
        catch (JsonException e)
        {
            throw new SafeTensorsFormatException(path, $"the header is not valid JSON ({e.Message})");
        }
        using (doc)
        {
            try { return FromJson(path, doc, dataLength); }
            catch (InvalidOperationException e)
            {
                // JsonDocument decodes a string only when it is read: a lone UTF-16 surrogate escape (\ud800) fails there.
                throw new SafeTensorsFormatException(path, $"the header holds a string JSON cannot decode ({e.Message})");
            }
        }
    }

    static SafeTensorsHeader FromJson(string path, JsonDocument doc, long dataLength)
    {
        if (doc.RootElement.ValueKind != JsonValueKind.Object)
            throw new SafeTensorsFormatException(path, "the header is not a JSON object");
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        var entries = new List<SafeTensorsEntry>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var property in doc.RootElement.EnumerateObject())
        {
            if (!seen.Add(property.Name))
                throw new SafeTensorsFormatException(path, $"the name '{property.Name}' appears twice in the header");
            if (property.Name == MetadataKey)
                ReadMetadata(path, property.Value, metadata);
            else
                entries.Add(ReadEntry(path, property.Name, property.Value, dataLength));
        }
        CheckCoverage(path, entries, dataLength);
        return new SafeTensorsHeader(metadata, entries);
    }

    static void ReadMetadata(string path, JsonElement value, Dictionary<string, string> metadata)
    {
        if (value.ValueKind == JsonValueKind.Null) return;
        if (value.ValueKind != JsonValueKind.Object)
            throw new SafeTensorsFormatException(path, $"'{MetadataKey}' must be an object of string values, found {value.ValueKind}");
        foreach (var item in value.EnumerateObject())
        {
            if (item.Value.ValueKind != JsonValueKind.String)
                throw new SafeTensorsFormatException(path, $"metadata '{item.Name}' must be a string, found {item.Value.ValueKind}");
            if (!metadata.TryAdd(item.Name, item.Value.GetString()!))
                throw new SafeTensorsFormatException(path, $"metadata key '{item.Name}' appears twice");
        }
    }

    static SafeTensorsEntry ReadEntry(string path, string name, JsonElement value, long dataLength)
    {
        if (value.ValueKind != JsonValueKind.Object)
            throw new SafeTensorsFormatException(path, $"tensor '{name}': expected an object with dtype, shape and data_offsets, found {value.ValueKind}");
        if (!value.TryGetProperty("dtype", out var dtypeElement) || dtypeElement.ValueKind != JsonValueKind.String)
            throw new SafeTensorsFormatException(path, $"tensor '{name}': missing or non-string 'dtype'");
        var dtype = dtypeElement.GetString()!;
        if (!SafeTensorsDType.IsKnown(dtype))
            throw new SafeTensorsFormatException(path, $"tensor '{name}': unknown dtype '{dtype}'");
        if (!value.TryGetProperty("shape", out var shapeElement) || shapeElement.ValueKind != JsonValueKind.Array)
            throw new SafeTensorsFormatException(path, $"tensor '{name}': missing or non-array 'shape'");
        var shape = new long[shapeElement.GetArrayLength()];
        var i = 0;
        foreach (var dim in shapeElement.EnumerateArray())
        {
            if (dim.ValueKind != JsonValueKind.Number || !dim.TryGetInt64(out var d))
                throw new SafeTensorsFormatException(path, $"tensor '{name}': shape entry {i} is not an integer");
            if (d < 0)
                throw new SafeTensorsFormatException(path, $"tensor '{name}': shape entry {i} is negative ({d})");
            shape[i++] = d;
        }
        if (!value.TryGetProperty("data_offsets", out var offsets) || offsets.ValueKind != JsonValueKind.Array || offsets.GetArrayLength() != 2)
            throw new SafeTensorsFormatException(path, $"tensor '{name}': 'data_offsets' must be an array of two integers [begin, end]");
        if (!offsets[0].TryGetInt64OrFail(out var begin) || !offsets[1].TryGetInt64OrFail(out var end) || begin < 0 || end < 0)
            throw new SafeTensorsFormatException(path, $"tensor '{name}': 'data_offsets' must be two non-negative integers");
        if (end < begin)
            throw new SafeTensorsFormatException(path, $"tensor '{name}': data_offsets end {end} is before begin {begin}");
        if (end > dataLength)
            throw new SafeTensorsFormatException(path, $"tensor '{name}': data_offsets [{begin}, {end}] run past the data region ({dataLength} bytes; truncated file?)");

        long expectedBytes;
        try
        {
            expectedBytes = checked(shape.Aggregate(1L, (n, d) => checked(n * d)) * SafeTensorsDType.ElementSize(dtype));
        }
        catch (OverflowException)
        {
            throw new SafeTensorsFormatException(path, $"tensor '{name}': shape [{string.Join(", ", shape)}] is too large");
        }
        if (expectedBytes != end - begin)
            throw new SafeTensorsFormatException(path, $"tensor '{name}': shape [{string.Join(", ", shape)}] × {dtype} is {expectedBytes} bytes but data_offsets span {end - begin}");
        return new SafeTensorsEntry(name, dtype, shape, begin, end);
    }

    static void CheckCoverage(string path, List<SafeTensorsEntry> entries, long dataLength)
    {
        long expected = 0;
        SafeTensorsEntry? previous = null;
        // Zero-byte tensors may share an offset with their neighbour; order them first so they never look like overlaps.
        foreach (var e in entries.OrderBy(e => e.Begin).ThenBy(e => e.End))
        {
            if (e.Begin < expected)
                throw new SafeTensorsFormatException(path, $"tensor '{e.Name}' [{e.Begin}, {e.End}] overlaps tensor '{previous!.Name}' [{previous.Begin}, {previous.End}]");
            if (e.Begin > expected)
                throw new SafeTensorsFormatException(path, $"{e.Begin - expected} bytes before tensor '{e.Name}' (offset {expected}) belong to no tensor");
            expected = e.End;
            previous = e;
        }
        if (expected != dataLength)
            throw new SafeTensorsFormatException(path, $"tensors cover {expected} bytes but the data region is {dataLength} bytes ({(expected < dataLength ? "trailing bytes belong to no tensor" : "truncated file?")})");
    }
}

static class JsonElementExtensions
{
    public static bool TryGetInt64OrFail(this JsonElement element, out long value)
    {
        value = 0;
        return element.ValueKind == JsonValueKind.Number && element.TryGetInt64(out value);
    }
}
