using static TorchSharp.torch;

namespace NotebookTrainer.Models.Layers;

/// <summary>
/// Something that changes what a frozen layer computes without touching its weight: a LoRA, LoCon or
/// LoHa module. <see cref="AdaptableLinear"/> and <see cref="AdaptableConv2d"/> call every attached
/// adapter after their own computation, which is how kohya's <c>networks.lora</c> replaces forward.
/// </summary>
public interface IWeightAdapter
{
    /// <summary>Returns the layer output with this adapter's contribution added.</summary>
    Tensor Adapt(Tensor input, Tensor originalOutput);
}
