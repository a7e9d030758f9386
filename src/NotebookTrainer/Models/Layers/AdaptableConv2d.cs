using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;
using TorchSharp.Modules;

namespace NotebookTrainer.Models.Layers;

/// <summary>
/// nn.Conv2d (square kernel, zero padding) with the same parameter names and the ability to carry weight
/// adapters; see <see cref="AdaptableLinear"/>.
/// </summary>
public sealed class AdaptableConv2d : Module<Tensor, Tensor>
{
    public Parameter weight;
    public Parameter? bias;

    public AdaptableConv2d(long inChannels, long outChannels, long kernelSize, long stride = 1, long padding = 0,
        bool hasBias = true, ScalarType? dtype = null, Device? device = null)
        : base(nameof(AdaptableConv2d))
    {
        InChannels = inChannels;
        OutChannels = outChannels;
        KernelSize = kernelSize;
        Stride = stride;
        Padding = padding;
        weight = new Parameter(empty(outChannels, inChannels, kernelSize, kernelSize, dtype: dtype, device: device));
        bias = hasBias ? new Parameter(empty(outChannels, dtype: dtype, device: device)) : null;
        using (no_grad())
        {
            init.kaiming_uniform_(weight, Math.Sqrt(5));
            if (bias is not null)
            {
                var bound = 1 / Math.Sqrt(inChannels * kernelSize * kernelSize);
                init.uniform_(bias, -bound, bound);
            }
        }
        RegisterComponents();
    }

    public long InChannels { get; }
    public long OutChannels { get; }
    public long KernelSize { get; }
    public long Stride { get; }
    public long Padding { get; }

    public List<IWeightAdapter> Adapters { get; } = new();

    public override Tensor forward(Tensor input)
    {
        var x = input.dtype == weight.dtype ? input : input.to(weight.dtype);
        var output = Float32Compute.Applies(weight)
            ? Float32Compute.Conv2d(x, weight, bias, Stride, Padding)
            : functional.conv2d(x, weight, bias, strides: new[] { Stride, Stride }, padding: new[] { Padding, Padding });
        foreach (var adapter in Adapters)
            output = adapter.Adapt(input, output);
        return output;
    }
}
