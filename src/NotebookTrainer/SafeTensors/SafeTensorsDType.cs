using static TorchSharp.torch;

namespace NotebookTrainer.SafeTensors;

/// <summary>The dtype names a safetensors header may use, their element sizes and their TorchSharp equivalents.</summary>
public static class SafeTensorsDType
{
    static readonly Dictionary<string, int> ElementSizes = new(StringComparer.Ordinal)
    {
        ["BOOL"] = 1, ["U8"] = 1, ["I8"] = 1, ["F8_E4M3"] = 1, ["F8_E5M2"] = 1,
        ["I16"] = 2, ["U16"] = 2, ["F16"] = 2, ["BF16"] = 2,
        ["I32"] = 4, ["U32"] = 4, ["F32"] = 4,
        ["I64"] = 8, ["U64"] = 8, ["F64"] = 8,
    };

    static readonly Dictionary<string, ScalarType> ToScalar = new(StringComparer.Ordinal)
    {
        ["BOOL"] = ScalarType.Bool, ["U8"] = ScalarType.Byte, ["I8"] = ScalarType.Int8,
        ["I16"] = ScalarType.Int16, ["F16"] = ScalarType.Float16, ["BF16"] = ScalarType.BFloat16,
        ["I32"] = ScalarType.Int32, ["F32"] = ScalarType.Float32,
        ["I64"] = ScalarType.Int64, ["F64"] = ScalarType.Float64,
    };

    public static bool IsKnown(string dtype) => ElementSizes.ContainsKey(dtype);

    public static int ElementSize(string dtype) => ElementSizes[dtype];

    /// <summary>The TorchSharp type for a safetensors dtype, or null when TorchSharp has none (U16, U32, U64, F8_*).</summary>
    public static ScalarType? ToScalarType(string dtype) => ToScalar.TryGetValue(dtype, out var t) ? t : null;

    public static string FromScalarType(ScalarType type) => type switch
    {
        ScalarType.Bool => "BOOL",
        ScalarType.Byte => "U8",
        ScalarType.Int8 => "I8",
        ScalarType.Int16 => "I16",
        ScalarType.Float16 => "F16",
        ScalarType.BFloat16 => "BF16",
        ScalarType.Int32 => "I32",
        ScalarType.Float32 => "F32",
        ScalarType.Int64 => "I64",
        ScalarType.Float64 => "F64",
        _ => throw new ArgumentException($"safetensors has no dtype for {type}; convert the tensor to a real or integer type first.", nameof(type)),
    };
}
