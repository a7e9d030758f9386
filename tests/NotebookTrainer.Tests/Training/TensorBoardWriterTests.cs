using System.Buffers.Binary;
using Google.Protobuf;
using NotebookTrainer.Training;

namespace NotebookTrainer.Tests.Training;

public sealed class TensorBoardWriterTests : IDisposable
{
    readonly string dir = Directory.CreateTempSubdirectory("ntrain-tb-").FullName;

    public void Dispose() => Directory.Delete(dir, recursive: true);

    [Fact]
    public void Crc32CMatchesTheCastagnoliCheckValue() =>
        Assert.Equal(0xE3069283u, TensorBoardWriter.Crc32C("123456789"u8));

    [Fact]
    public void RecordsHaveValidFramingAndScalarEvents()
    {
        string path;
        using (var writer = new TensorBoardWriter(dir))
        {
            writer.AddScalars(7, [("loss/current", 0.25f), ("lr/unet", 1e-4f)]);
            path = writer.FilePath;
        }
        var bytes = File.ReadAllBytes(path);
        var records = new List<byte[]>();
        for (var at = 0; at < bytes.Length;)
        {
            var length = (int)BinaryPrimitives.ReadUInt64LittleEndian(bytes.AsSpan(at));
            Assert.Equal(TensorBoardWriter.MaskedCrc32C(bytes.AsSpan(at, 8)), BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(at + 8)));
            var payload = bytes.AsSpan(at + 12, length).ToArray();
            Assert.Equal(TensorBoardWriter.MaskedCrc32C(payload), BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(at + 12 + length)));
            records.Add(payload);
            at += 12 + length + 4;
        }
        Assert.Equal(2, records.Count);

        var first = new CodedInputStream(records[0]);
        Assert.Equal(WireFormat.MakeTag(1, WireFormat.WireType.Fixed64), first.ReadTag());
        Assert.True(first.ReadDouble() > 1.7e9);
        Assert.Equal(WireFormat.MakeTag(2, WireFormat.WireType.Varint), first.ReadTag());
        Assert.Equal(0, first.ReadInt64());
        Assert.Equal(WireFormat.MakeTag(3, WireFormat.WireType.LengthDelimited), first.ReadTag());
        Assert.Equal("brain.Event:2", first.ReadString());

        var second = new CodedInputStream(records[1]);
        second.ReadTag(); second.ReadDouble(); second.ReadTag();
        Assert.Equal(7, second.ReadInt64());
        Assert.Equal(WireFormat.MakeTag(5, WireFormat.WireType.LengthDelimited), second.ReadTag());
        var summary = new CodedInputStream(second.ReadBytes().ToByteArray());
        var values = new List<(string, float)>();
        while (!summary.IsAtEnd)
        {
            Assert.Equal(WireFormat.MakeTag(1, WireFormat.WireType.LengthDelimited), summary.ReadTag());
            var value = new CodedInputStream(summary.ReadBytes().ToByteArray());
            value.ReadTag();
            var tag = value.ReadString();
            Assert.Equal(WireFormat.MakeTag(2, WireFormat.WireType.Fixed32), value.ReadTag());
            values.Add((tag, value.ReadFloat()));
        }
        Assert.Equal([("loss/current", 0.25f), ("lr/unet", 1e-4f)], values);
    }
}
