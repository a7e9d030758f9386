using static TorchSharp.torch;

namespace NotebookTrainer.Sampling;

/// <summary>
/// Classifier-free guidance: the unconditional (negative prompt) and conditional halves run as one batch,
/// output = uncond + scale·(cond − uncond).
/// </summary>
public static class ClassifierFreeGuidance
{
    /// <param name="conditioning">Prompt states (B, tokens, dim) and, for SDXL, pooled embeddings.</param>
    /// <param name="unconditioning">Negative prompt conditioning, same shapes (pad the shorter with <see cref="PromptEmbedder"/> windows first).</param>
    /// <param name="scale">CFG scale; 1 runs the conditional half only.</param>
    public static DenoiserModel Guide(ConditionalDenoiser model, PromptConditioning conditioning, PromptConditioning unconditioning, double scale)
    {
        if (!conditioning.States.shape.SequenceEqual(unconditioning.States.shape) || (conditioning.Pooled is null) != (unconditioning.Pooled is null))
            throw new ArgumentException($"prompt states ({string.Join(", ", conditioning.States.shape)}) and negative prompt states ({string.Join(", ", unconditioning.States.shape)}) must have the same shape.");
        if (scale == 1) return (sample, timestep) => model(sample, timestep, conditioning);
        var both = PromptConditioning.Cat([unconditioning, conditioning]);
        return (sample, timestep) =>
        {
            using var scope = NewDisposeScope();
            var output = model(cat([sample, sample]), timestep, both);
            var halves = output.chunk(2);
            return (halves[0] + (halves[1] - halves[0]) * scale).MoveToOuterDisposeScope();
        };
    }
}
