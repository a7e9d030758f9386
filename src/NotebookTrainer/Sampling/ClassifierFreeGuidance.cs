using static TorchSharp.torch;

namespace NotebookTrainer.Sampling;

/// <summary>
/// Classifier-free guidance: the unconditional (negative prompt) and conditional halves run as one batch,
/// output = uncond + scale·(cond − uncond).
/// </summary>
public static class ClassifierFreeGuidance
{
    /// <param name="conditioning">Prompt states (B, tokens, dim).</param>
    /// <param name="unconditioning">Negative prompt states, same shape (pad the shorter with <see cref="PromptEmbedder"/> windows first).</param>
    /// <param name="scale">CFG scale; 1 runs the conditional half only.</param>
    public static DenoiserModel Guide(ConditionalDenoiser model, Tensor conditioning, Tensor unconditioning, double scale)
    {
        if (!conditioning.shape.SequenceEqual(unconditioning.shape))
            throw new ArgumentException($"prompt states ({string.Join(", ", conditioning.shape)}) and negative prompt states ({string.Join(", ", unconditioning.shape)}) must have the same shape.");
        if (scale == 1) return (sample, timestep) => model(sample, timestep, conditioning);
        return (sample, timestep) =>
        {
            using var scope = NewDisposeScope();
            var output = model(cat([sample, sample]), timestep, cat([unconditioning, conditioning]));
            var halves = output.chunk(2);
            return (halves[0] + (halves[1] - halves[0]) * scale).MoveToOuterDisposeScope();
        };
    }
}
