using NotebookTrainer.Models.Layers;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace NotebookTrainer.Models.UNet;

/// <summary>diffusers' <c>FeedForward</c> with GEGLU: net.0 = GEGLU(dim → 4·dim), net.1 = dropout, net.2 = Linear(4·dim → dim).</summary>
public sealed class FeedForward : nn.Module<Tensor, Tensor>
{
    public readonly ModuleList<nn.Module<Tensor, Tensor>> net;

    public FeedForward(int dim, ScalarType? dtype = null, Device? device = null) : base(nameof(FeedForward))
    {
        var inner = dim * 4;
        net = new ModuleList<nn.Module<Tensor, Tensor>>(new GEGLU(dim, inner, dtype, device), nn.Dropout(0.0), new AdaptableLinear(inner, dim, true, dtype, device));
        RegisterComponents();
    }

    public override Tensor forward(Tensor input)
    {
        using var hidden = net[0].forward(input);
        return net[2].forward(hidden);
    }
}
