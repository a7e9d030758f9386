using NotebookTrainer.ModelConfigs;
using NotebookTrainer.Models.Blocks;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace NotebookTrainer.Models.UNet;

/// <summary>diffusers' <c>CrossAttnDownBlock2D</c>: (resnet, transformer) pairs, then an optional strided-conv downsampler.</summary>
public sealed class CrossAttnDownBlock2D : UNetDownBlock
{
    public readonly ModuleList<Transformer2DModel> attentions = new();

    public CrossAttnDownBlock2D(int inChannels, int outChannels, int tembChannels, int numLayers, int heads, int transformerDepth,
        int crossAttentionDim, UNet2DConditionConfig c, bool addDownsample, ScalarType? dtype = null, Device? device = null)
        : base(nameof(CrossAttnDownBlock2D))
    {
        for (var i = 0; i < numLayers; i++)
        {
            resnets.Add(new ResnetBlock2D(i == 0 ? inChannels : outChannels, outChannels, tembChannels, c.NormNumGroups, c.NormEps, dtype, device));
            attentions.Add(new Transformer2DModel(heads, outChannels / heads, outChannels, transformerDepth, crossAttentionDim, c.NormNumGroups, c.UseLinearProjection, c.UpcastAttention, dtype, device));
        }
        if (addDownsample)
            downsamplers = new ModuleList<Downsample2D>(new Downsample2D(outChannels, c.DownsamplePadding, dtype, device));
        RegisterComponents();
    }

    public override (Tensor Output, List<Tensor> Skips) forward(Tensor hiddenStates, Tensor temb, Tensor encoderHiddenStates)
    {
        var skips = new List<Tensor>();
        var h = hiddenStates;
        for (var i = 0; i < resnets.Count; i++)
        {
            h = RunResnet(resnets[i], h, temb);
            var attention = attentions[i];
            h = GradientCheckpointing
                ? GradientCheckpoint.Run(attention, a => attention.forward(a[0]!, a[1]!), h, encoderHiddenStates)
                : attention.forward(h, encoderHiddenStates);
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
