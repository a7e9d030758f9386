using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;
using TorchSharp.Modules;

namespace NotebookTrainer.Models.Layers;

/// <summary>
/// nn.Linear with the same parameter names (<c>weight</c>, <c>bias</c>) and the ability to carry
/// weight adapters. Every Linear of the Stable Diffusion modules is one of these, so a LoRA can attach to
/// any of them by module path. Adapters are not registered submodules: they never enter the model's
/// state dict.
/// </summary>
public sealed class AdaptableLinear : Module<Tensor, Tensor>
{
    public Parameter weight;
    public Parameter? bias;

    public AdaptableLinear(long inFeatures, long outFeatures, bool hasBias = true, ScalarType? dtype = null, Device? device = null)
        : base(nameof(AdaptableLinear))
    {
        InFeatures = inFeatures;
        OutFeatures = outFeatures;
        weight = new Parameter(empty(outFeatures, inFeatures, dtype: dtype, device: device));
        bias = hasBias ? new Parameter(empty(outFeatures, dtype: dtype, device: device)) : null;
        // nn.Linear's default init: kaiming_uniform(a=sqrt(5)) for weight, uniform(±1/sqrt(fan_in)) for bias.
        using (no_grad())
        {
            init.kaiming_uniform_(weight, Math.Sqrt(5));
            if (bias is not null)
            {
                var bound = 1 / Math.Sqrt(inFeatures);
                init.uniform_(bias, -bound, bound);
            }
        }
        RegisterComponents();
    }

    public long InFeatures { get; }
    public long OutFeatures { get; }

    public List<IWeightAdapter> Adapters { get; } = new();

    public override Tensor forward(Tensor input)
    {
        var x = input.dtype == weight.dtype ? input : input.to(weight.dtype);
        var output = Float32Compute.Applies(weight) ? Float32Compute.Linear(x, weight, bias) : functional.linear(x, weight, bias);
        foreach (var adapter in Adapters)
            output = adapter.Adapt(input, output);
        return output;
    }
}
