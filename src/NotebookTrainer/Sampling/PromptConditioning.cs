using static TorchSharp.torch;

namespace NotebookTrainer.Sampling;

/// <summary>
/// What prompts condition the U-Net with, one row per prompt: the token states it attends to (B, tokens, dim) and, for
/// SDXL, text encoder 2's pooled embedding (B, P). Classifier-free guidance stacks the negative and positive rows.
/// </summary>
public sealed record PromptConditioning(Tensor States, Tensor? Pooled = null)
{
    public PromptConditioning To(Device device) => new(States.to(device), Pooled?.to(device));

    /// <summary>The rows of <paramref name="parts"/> in order (all with or all without a pooled embedding).</summary>
    public static PromptConditioning Cat(IReadOnlyList<PromptConditioning> parts) =>
        new(cat(parts.Select(p => p.States).ToList()), parts[0].Pooled is null ? null : cat(parts.Select(p => p.Pooled!).ToList()));
}
