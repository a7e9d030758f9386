using NotebookTrainer.Models.Blocks;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace NotebookTrainer.Models.Vae;

/// <summary>diffusers' <c>UpDecoderBlock2D</c>: resnets without time embedding, then an optional upsampler.</summary>
public sealed class UpDecoderBlock2D : nn.Module<Tensor, Tensor>
{
    public readonly ModuleList<ResnetBlock2D> resnets = new();
    public readonly ModuleList<Upsample2D>? upsamplers;

    public UpDecoderBlock2D(int inChannels, int outChannels, int numLayers, int groups, bool addUpsample,
        ScalarType? dtype = null, Device? device = null) : base(nameof(UpDecoderBlock2D))
    {
        for (var i = 0; i < numLayers; i++)
            resnets.Add(new ResnetBlock2D(i == 0 ? inChannels : outChannels, outChannels, null, groups, 1e-6, dtype, device));
        if (addUpsample)
            upsamplers = new ModuleList<Upsample2D>(new Upsample2D(outChannels, dtype, device));
        RegisterComponents();
    }

    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        var h = input;
        foreach (var resnet in resnets)
            h = resnet.forward(h, null);
        if (upsamplers is not null)
            h = upsamplers[0].forward(h);
        return h.MoveToOuterDisposeScope();
    }
}
