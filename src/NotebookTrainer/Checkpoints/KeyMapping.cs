namespace NotebookTrainer.Checkpoints;

/// <summary>How a tensor changes between the single-file (LDM) layout and the diffusers layout.</summary>
public enum KeyTransform
{
    /// <summary>Same tensor under another name.</summary>
    None,
    /// <summary>VAE mid attention: a 1×1 conv [o, i, 1, 1] in the single file, a Linear [o, i] in diffusers.</summary>
    ConvToLinear,
    /// <summary>OpenCLIP <c>in_proj</c>: one [3c, …] tensor in the single file, q/k/v [c, …] in diffusers (<see cref="KeyMapping.Part"/> 0, 1, 2).</summary>
    QkvSplit,
    /// <summary>OpenCLIP's <c>text_projection</c>: [width, projection] in the single file (x @ P), a Linear weight [projection, width] in diffusers.</summary>
    Transpose,
}

/// <summary>
/// One tensor's name in both layouts. <see cref="Shape"/> is the diffusers shape the architecture's config implies,
/// used to catch a config that does not fit the weights.
/// </summary>
public sealed record KeyMapping(string LdmName, string Component, string DiffusersName, long[] Shape, KeyTransform Transform = KeyTransform.None, int Part = 0)
{
    public long[] LdmShape => Transform switch
    {
        KeyTransform.ConvToLinear => [.. Shape, 1, 1],
        KeyTransform.QkvSplit => [3 * Shape[0], .. Shape[1..]],
        KeyTransform.Transpose => [Shape[1], Shape[0]],
        _ => Shape,
    };
}

/// <summary>Accumulates the mappings of one component under LDM and diffusers prefixes.</summary>
sealed class KeyMapBuilder(string component, string ldmPrefix, string diffusersPrefix)
{
    public List<KeyMapping> Mappings { get; } = [];

    public void Add(string ldm, string diffusers, long[] shape, KeyTransform transform = KeyTransform.None, int part = 0) =>
        Mappings.Add(new KeyMapping(ldmPrefix + ldm, component, diffusersPrefix + diffusers, shape, transform, part));

    public void WeightAndBias(string ldm, string diffusers, long[] weightShape, KeyTransform transform = KeyTransform.None)
    {
        Add(ldm + ".weight", diffusers + ".weight", weightShape, transform);
        Add(ldm + ".bias", diffusers + ".bias", [weightShape[0]]);
    }

    public void Norm(string ldm, string diffusers, long channels)
    {
        Add(ldm + ".weight", diffusers + ".weight", [channels]);
        Add(ldm + ".bias", diffusers + ".bias", [channels]);
    }

    public void Conv(string ldm, string diffusers, long output, long input, long kernel) =>
        WeightAndBias(ldm, diffusers, [output, input, kernel, kernel]);
}
