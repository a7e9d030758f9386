using NotebookTrainer.Models.Layers;
using static TorchSharp.torch;
using TorchSharp.Modules;

namespace NotebookTrainer.Networks;

/// <summary>A frozen layer a network module can attach to: an <see cref="AdaptableLinear"/> or an <see cref="AdaptableConv2d"/>.</summary>
public sealed class TargetLayer
{
    TargetLayer(AdaptableLinear? linear, AdaptableConv2d? conv)
    {
        Linear = linear;
        Conv = conv;
    }

    public static TargetLayer Of(AdaptableLinear linear) => new(linear, null);
    public static TargetLayer Of(AdaptableConv2d conv) => new(null, conv);

    public AdaptableLinear? Linear { get; }
    public AdaptableConv2d? Conv { get; }

    public Parameter Weight => Linear?.weight ?? Conv!.weight;
    public List<IWeightAdapter> Adapters => Linear?.Adapters ?? Conv!.Adapters;
    public long InFeatures => Linear?.InFeatures ?? Conv!.InChannels;
    public long OutFeatures => Linear?.OutFeatures ?? Conv!.OutChannels;
    public long KernelSize => Conv?.KernelSize ?? 1;
    public bool IsLinear => Linear is not null;

    /// <summary>Linear or 1×1 conv: these take network dim/alpha; larger kernels take conv dim/alpha.</summary>
    public bool IsPointwise => Linear is not null || Conv!.KernelSize == 1;
}
