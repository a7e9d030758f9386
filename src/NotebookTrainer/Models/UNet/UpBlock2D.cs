using NotebookTrainer.Models.Blocks;
using NotebookTrainer.ModelConfigs;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace NotebookTrainer.Models.UNet;

/// <summary>diffusers' <c>UpBlock2D</c>: (concat skip, resnet) per layer, then an optional upsampler.</summary>
public sealed class UpBlock2D : UNetUpBlock
{
    public UpBlock2D(int inChannels, int outChannels, int prevOutputChannels, int tembChannels, int numLayers,
        UNet2DConditionConfig c, bool addUpsample, ScalarType? dtype = null, Device? device = null) : base(nameof(UpBlock2D))
    {
        AddResnets(resnets, inChannels, prevOutputChannels, outChannels, tembChannels, numLayers, c.NormNumGroups, c.NormEps, dtype, device);
        if (addUpsample)
            upsamplers = new ModuleList<Upsample2D>(new Upsample2D(outChannels, dtype, device));
        RegisterComponents();
    }

    public override Tensor forward(Tensor hiddenStates, IReadOnlyList<Tensor> skips, Tensor temb, Tensor encoderHiddenStates, long[]? upsampleSize)
    {
        var h = hiddenStates;
        for (var i = 0; i < resnets.Count; i++)
            h = RunResnet(resnets[i], h, skips[skips.Count - 1 - i], temb);
        return upsamplers is null ? h : upsamplers[0].forward(h, upsampleSize);
    }
}
