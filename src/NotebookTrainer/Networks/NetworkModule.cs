using NotebookTrainer.Models.Layers;
using TorchSharp;
using static TorchSharp.torch;

namespace NotebookTrainer.Networks;

/// <summary>
/// One trainable adapter of a <see cref="LoraNetwork"/>, bound to one frozen <see cref="AdaptableLinear"/> or
/// <see cref="AdaptableConv2d"/>. Subclasses hold the checkpoint tensors under kohya/LyCORIS names, so
/// <c>state_dict()</c> keys are exactly the keys after <c>{Name}.</c> in a LoRA file.
/// </summary>
public abstract class NetworkModule : nn.Module, IWeightAdapter
{
    protected NetworkModule(string name, TargetLayer target) : base(name)
    {
        Name = name;
        Target = target;
    }

    /// <summary>kohya name, e.g. <c>lora_unet_mid_block_attentions_0_proj_in</c>.</summary>
    public string Name { get; }

    public TargetLayer Target { get; }

    public float Multiplier { get; set; } = 1f;

    /// <summary>Skips the whole module for a step with this probability, training only (kohya module_dropout).</summary>
    public float ModuleDropout { get; set; }

    public abstract long Rank { get; }

    /// <summary>alpha / rank.</summary>
    public abstract double Scale { get; }

    /// <summary>The change this module makes to the frozen weight, at multiplier 1, in the frozen weight's shape.</summary>
    public abstract Tensor DeltaWeight();

    /// <summary>The module's contribution to the layer output at multiplier 1 (dropouts applied when training).</summary>
    protected abstract Tensor Delta(Tensor input);

    public Tensor Adapt(Tensor input, Tensor originalOutput)
    {
        if (Multiplier == 0f) return originalOutput;
        if (training && ModuleDropout > 0 && rand(1).item<float>() < ModuleDropout) return originalOutput;
        using var scope = NewDisposeScope();
        var x = input.dtype == ParameterDType ? input : input.to(ParameterDType);
        using var multiplier = ((double)Multiplier).ToScalar();
        var delta = Delta(x).mul(multiplier);
        return originalOutput.add(delta.to(originalOutput.dtype), One).MoveToOuterDisposeScope();
    }

    /// <summary>The alpha of the add above, held for the process: `a + b` would pass TorchSharp a temporary (see Optimizer.Held).</summary>
    static readonly Scalar One = 1.0.ToScalar();

    protected abstract ScalarType ParameterDType { get; }

    /// <summary>Runs the frozen layer's own operation (linear or conv with its stride/padding) with weight <paramref name="w"/>.</summary>
    protected Tensor ApplyLikeTarget(Tensor x, Tensor w) => Target.Conv is { } conv
        ? nn.functional.conv2d(x, w, strides: new[] { conv.Stride, conv.Stride }, padding: new[] { conv.Padding, conv.Padding })
        : nn.functional.linear(x, w);

    public void Attach() => Target.Adapters.Add(this);

    public void Detach() => Target.Adapters.Remove(this);
}
