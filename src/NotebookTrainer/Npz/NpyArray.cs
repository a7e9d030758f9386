using System.Buffers.Binary;

namespace NotebookTrainer.Npz;

/// <summary>One numpy array as a .npy file holds it: element type, shape (C order) and the little-endian element bytes.</summary>
public sealed class NpyArray
{
    public NpyArray(NpyDType dtype, IReadOnlyList<long> shape, byte[] data)
    {
        var count = ElementCount(shape) ?? throw new ArgumentException($"shape ({string.Join(", ", shape)}) is negative or too large.", nameof(shape));
        if (data.LongLength != count * NpyDTypes.ItemSize(dtype))
            throw new ArgumentException($"{data.LongLength} bytes do not hold {count} elements of {NpyDTypes.Descr(dtype)}.", nameof(data));
        DType = dtype;
        Shape = shape.ToArray();
        Data = data;
    }

    public NpyDType DType { get; }
    public IReadOnlyList<long> Shape { get; }
    public byte[] Data { get; }
    public long Count => Data.LongLength / NpyDTypes.ItemSize(DType);

    /// <summary>The product of the dimensions, or null when one is negative or the product overflows.</summary>
    public static long? ElementCount(IReadOnlyList<long> shape)
    {
        long count = 1;
        foreach (var d in shape)
        {
            if (d < 0) return null;
            try { count = checked(count * d); }
            catch (OverflowException) { return null; }
        }
        return count;
    }

    public static NpyArray Float32(float[] values, params long[] shape)
    {
        var data = new byte[values.Length * 4];
        for (var i = 0; i < values.Length; i++) BinaryPrimitives.WriteSingleLittleEndian(data.AsSpan(i * 4), values[i]);
        return new NpyArray(NpyDType.Float32, shape, data);
    }

    public static NpyArray Float64(double[] values, params long[] shape)
    {
        var data = new byte[values.Length * 8];
        for (var i = 0; i < values.Length; i++) BinaryPrimitives.WriteDoubleLittleEndian(data.AsSpan(i * 8), values[i]);
        return new NpyArray(NpyDType.Float64, shape, data);
    }

    public static NpyArray Int64(long[] values, params long[] shape)
    {
        var data = new byte[values.Length * 8];
        for (var i = 0; i < values.Length; i++) BinaryPrimitives.WriteInt64LittleEndian(data.AsSpan(i * 8), values[i]);
        return new NpyArray(NpyDType.Int64, shape, data);
    }

    /// <summary>Every element as a double (exact for all types here but 64-bit integers beyond 2^53).</summary>
    public double[] ToFloat64()
    {
        var values = new double[Count];
        var size = NpyDTypes.ItemSize(DType);
        for (var i = 0; i < values.Length; i++)
        {
            var bytes = Data.AsSpan((int)(i * size), size);
            values[i] = DType switch
            {
                NpyDType.Bool => bytes[0] != 0 ? 1 : 0,
                NpyDType.UInt8 => bytes[0],
                NpyDType.Int8 => (sbyte)bytes[0],
                NpyDType.Int16 => BinaryPrimitives.ReadInt16LittleEndian(bytes),
                NpyDType.Int32 => BinaryPrimitives.ReadInt32LittleEndian(bytes),
                NpyDType.Int64 => BinaryPrimitives.ReadInt64LittleEndian(bytes),
                NpyDType.Float16 => (double)BinaryPrimitives.ReadHalfLittleEndian(bytes),
                NpyDType.Float32 => BinaryPrimitives.ReadSingleLittleEndian(bytes),
                _ => BinaryPrimitives.ReadDoubleLittleEndian(bytes),
            };
        }
        return values;
    }

    /// <summary>Every element as a float (rounded from wider types).</summary>
    public float[] ToFloat32()
    {
        if (DType != NpyDType.Float32) return ToFloat64().Select(v => (float)v).ToArray();
        var values = new float[Count];
        for (var i = 0; i < values.Length; i++) values[i] = BinaryPrimitives.ReadSingleLittleEndian(Data.AsSpan(i * 4));
        return values;
    }
}
