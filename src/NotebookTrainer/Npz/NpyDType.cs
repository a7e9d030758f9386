namespace NotebookTrainer.Npz;

/// <summary>The numpy element types our .npy files hold: bools and little-endian numbers, as numpy writes them on x86 and ARM.</summary>
public enum NpyDType { Bool, UInt8, Int8, Int16, Int32, Int64, Float16, Float32, Float64 }

/// <summary>numpy's <c>descr</c> strings for <see cref="NpyDType"/> and their element sizes.</summary>
public static class NpyDTypes
{
    public static string Descr(NpyDType type) => type switch
    {
        NpyDType.Bool => "|b1",
        NpyDType.UInt8 => "|u1",
        NpyDType.Int8 => "|i1",
        NpyDType.Int16 => "<i2",
        NpyDType.Int32 => "<i4",
        NpyDType.Int64 => "<i8",
        NpyDType.Float16 => "<f2",
        NpyDType.Float32 => "<f4",
        _ => "<f8",
    };

    public static int ItemSize(NpyDType type) => type switch
    {
        NpyDType.Bool or NpyDType.UInt8 or NpyDType.Int8 => 1,
        NpyDType.Int16 or NpyDType.Float16 => 2,
        NpyDType.Int32 or NpyDType.Float32 => 4,
        _ => 8,
    };

    /// <summary>
    /// The type a descr names, or null for one we do not read (big-endian, unsigned wider than a byte, complex,
    /// strings, records). '&lt;', '=' (native, little-endian here) and '|' (no byte order) are accepted.
    /// </summary>
    public static NpyDType? Parse(string descr)
    {
        if (descr.Length != 3 || descr[0] is not ('<' or '=' or '|')) return null;
        return descr[1..] switch
        {
            "b1" => NpyDType.Bool,
            "u1" => NpyDType.UInt8,
            "i1" => NpyDType.Int8,
            "i2" when descr[0] != '|' => NpyDType.Int16,
            "i4" when descr[0] != '|' => NpyDType.Int32,
            "i8" when descr[0] != '|' => NpyDType.Int64,
            "f2" when descr[0] != '|' => NpyDType.Float16,
            "f4" when descr[0] != '|' => NpyDType.Float32,
            "f8" when descr[0] != '|' => NpyDType.Float64,
            _ => null,
        };
    }
}
