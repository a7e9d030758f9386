using System.Buffers.Binary;
using System.Numerics;
using Google.Protobuf;

namespace NotebookTrainer.Training;

/// <summary>
/// Writes TensorBoard event files (<c>events.out.tfevents.*</c>) without TensorFlow: each record is the payload
/// length (u64 LE), its masked CRC-32C, the serialized <c>Event</c> protobuf and that payload's masked CRC-32C.
/// Events carry scalar summaries (<c>Summary.Value{tag, simple_value}</c>). TorchSharp's own SummaryWriter is not used:
/// it stamps scalars in whole seconds and its first event in .NET ticks, and reopens the file per scalar (the
/// <c>tensorboard</c> benchmark measures both writers).
/// </summary>
public sealed class TensorBoardWriter : IDisposable
{
    readonly FileStream stream;

    public TensorBoardWriter(string logDir)
    {
        Directory.CreateDirectory(logDir);
        var stamp = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        // A run resumed in the same second by the same process gets the same name: number it, as TensorFlow suffixes its files.
        var name = $"events.out.tfevents.{stamp}.{Environment.MachineName}.{Environment.ProcessId}";
        FilePath = Path.Combine(logDir, name);
        for (var n = 1; File.Exists(FilePath); n++) FilePath = Path.Combine(logDir, $"{name}.{n}");
        stream = new FileStream(FilePath, FileMode.CreateNew, FileAccess.Write, FileShare.Read);
        WriteRecord(Event(DateTimeOffset.UtcNow, 0, fileVersion: "brain.Event:2"));
        stream.Flush();
    }

    public string FilePath { get; }

    public void AddScalars(long step, IEnumerable<(string Tag, float Value)> scalars, DateTimeOffset? time = null)
    {
        WriteRecord(Event(time ?? DateTimeOffset.UtcNow, step, scalars: scalars.ToList()));
        stream.Flush();
    }

    /// <summary>Event { double wall_time = 1; int64 step = 2; oneof { string file_version = 3; Summary summary = 5; } }.</summary>
    static byte[] Event(DateTimeOffset time, long step, string? fileVersion = null, List<(string Tag, float Value)>? scalars = null)
    {
        using var buffer = new MemoryStream();
        var output = new CodedOutputStream(buffer);
        output.WriteTag(1, WireFormat.WireType.Fixed64);
        output.WriteDouble(time.ToUnixTimeMilliseconds() / 1000.0);
        output.WriteTag(2, WireFormat.WireType.Varint);
        output.WriteInt64(step);
        if (fileVersion is not null)
        {
            output.WriteTag(3, WireFormat.WireType.LengthDelimited);
            output.WriteString(fileVersion);
        }
        if (scalars is not null)
        {
            output.WriteTag(5, WireFormat.WireType.LengthDelimited);
            output.WriteBytes(ByteString.CopyFrom(Summary(scalars)));
        }
        output.Flush();
        return buffer.ToArray();
    }

    /// <summary>Summary { repeated Value value = 1; }  Value { string tag = 1; float simple_value = 2; }.</summary>
    static byte[] Summary(List<(string Tag, float Value)> scalars)
    {
        using var buffer = new MemoryStream();
        var output = new CodedOutputStream(buffer);
        foreach (var (tag, value) in scalars)
        {
            using var valueBuffer = new MemoryStream();
            var v = new CodedOutputStream(valueBuffer);
            v.WriteTag(1, WireFormat.WireType.LengthDelimited);
            v.WriteString(tag);
            v.WriteTag(2, WireFormat.WireType.Fixed32);
            v.WriteFloat(value);
            v.Flush();
            output.WriteTag(1, WireFormat.WireType.LengthDelimited);
            output.WriteBytes(ByteString.CopyFrom(valueBuffer.ToArray()));
        }
        output.Flush();
        return buffer.ToArray();
    }

    void WriteRecord(byte[] payload)
    {
        Span<byte> header = stackalloc byte[12];
        BinaryPrimitives.WriteUInt64LittleEndian(header, (ulong)payload.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(header[8..], MaskedCrc32C(header[..8]));
        stream.Write(header);
        stream.Write(payload);
        Span<byte> footer = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(footer, MaskedCrc32C(payload));
        stream.Write(footer);
    }

    public static uint Crc32C(ReadOnlySpan<byte> data)
    {
        var crc = 0xFFFFFFFFu;
        foreach (var b in data) crc = BitOperations.Crc32C(crc, b);
        return ~crc;
    }

    /// <summary>TFRecord's CRC mask: rotate right by 15 and add a constant, so CRCs of CRCs stay well distributed.</summary>
    public static uint MaskedCrc32C(ReadOnlySpan<byte> data)
    {
        var crc = Crc32C(data);
        return unchecked(((crc >> 15) | (crc << 17)) + 0xa282ead8u);
    }

    public void Dispose() => stream.Dispose();
}
