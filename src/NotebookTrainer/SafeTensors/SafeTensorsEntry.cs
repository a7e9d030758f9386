namespace NotebookTrainer.SafeTensors;

/// <summary>
/// One tensor as the header describes it: dtype name, shape, and its byte span <c>[Begin, End)</c>
/// relative to the start of the data region.
/// </summary>
public sealed record SafeTensorsEntry(string Name, string DType, long[] Shape, long Begin, long End)
{
    public long ByteLength => End - Begin;

    public long ElementCount => Shape.Aggregate(1L, (n, d) => n * d);
}
