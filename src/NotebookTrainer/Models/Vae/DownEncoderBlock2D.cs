using NotebookTrainer.Models.Blocks;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace NotebookTrainer.Models.Vae;

/// <summary>diffusers' <c>DownEncoderBlock2D</c>: resnets without time embedding, then an optional padding-0 downsampler.</summary>
public sealed class DownEncoderBlock2D : nn.Module<Tensor, Tensor>
{
    public readonly ModuleList<ResnetBlock2D> resnets = new();
    public readonly ModuleList<Downsample2D>? downsamplers;

    public DownEncoderBlock2D(int inChannels, int outChannels, int numLayers, int groups, bool addDownsample,
        ScalarType? dtype = null, Device? device = null) : base(nameof(DownEncoderBlock2D))
    {
        for (var i = 0; i < numLayers; i++)
            resnets.Add(new ResnetBlock2D(i == 0 ? inChannels : outChannels, outChannels, null, groups, 1e-6, dtype, device));
        if (addDownsample)
            downsamplers = new ModuleList<Downsample2D>(new Downsample2D(outChannels, padding: 0, dtype, device));
        RegisterComponents();
    }

    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        var h = input;
        foreach (var resnet in resnets)
            h = resnet.forward(h, null);
        if (downsamplers is not null)
            h = downsamplers[0].forward(h);
        return h.MoveToOuterDisposeScope();
    }
}
