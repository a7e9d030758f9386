using NotebookTrainer.ModelConfigs;
using NotebookTrainer.Models.Blocks;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace NotebookTrainer.Models.UNet;

/// <summary>diffusers' <c>DownBlock2D</c>: resnets only, then an optional downsampler.</summary>
public sealed class DownBlock2D : UNetDownBlock
{
    public DownBlock2D(int inChannels, int outChannels, int tembChannels, int numLayers, UNet2DConditionConfig c,
        bool addDownsample, ScalarType? dtype = null, Device? device = null) : base(nameof(DownBlock2D))
    {
        for (var i = 0; i < numLayers; i++)
            resnets.Add(new ResnetBlock2D(i == 0 ? inChannels : outChannels, outChannels, tembChannels, c.NormNumGroups, c.NormEps, dtype, device));
        if (addDownsample)
            downsamplers = new ModuleList<Downsample2D>(new Downsample2D(outChannels, c.DownsamplePadding, dtype, device));
        RegisterComponents();
    }

    public override (Tensor Output, List<Tensor> Skips) forward(Tensor hiddenStates, Tensor temb, Tensor encoderHiddenStates)
    {
        var skips = new List<Tensor>();
        var h = hiddenStates;
        foreach (var resnet in resnets)
        {
            h = RunResnet(resnet, h, temb);
            skips.Add(h);
        }
        if (downsamplers is not null)
        {
            h = downsamplers[0].forward(h);
            skips.Add(h);
        }
        return (h, skips);
    }
}
