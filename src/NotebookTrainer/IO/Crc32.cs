namespace NotebookTrainer.IO;

/// <summary>The zip/PNG CRC-32 (polynomial 0xEDB88320), to check unpacked data against what its archive declares.</summary>
public sealed class Crc32
{
    static readonly uint[] Table = Enumerable.Range(0, 256).Select(n =>
    {
        var c = (uint)n;
        for (var k = 0; k < 8; k++) c = (c & 1) != 0 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        return c;
    }).ToArray();

    uint state = 0xFFFFFFFFu;

    public void Append(ReadOnlySpan<byte> data)
    {
        var c = state;
        foreach (var b in data) c = Table[(c ^ b) & 0xFF] ^ (c >> 8);
        state = c;
    }

    public uint Value => state ^ 0xFFFFFFFFu;
}
