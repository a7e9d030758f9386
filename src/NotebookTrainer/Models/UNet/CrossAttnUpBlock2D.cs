using NotebookTrainer.Models.Blocks;
using NotebookTrainer.ModelConfigs;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace NotebookTrainer.Models.UNet;

/// <summary>diffusers' <c>CrossAttnUpBlock2D</c>: (concat skip, resnet, transformer) per layer, then an optional upsampler.</summary>
public sealed class CrossAttnUpBlock2D : UNetUpBlock
{
    public readonly ModuleList<Transformer2DModel> attentions = new();

    public CrossAttnUpBlock2D(int inChannels, int outChannels, int prevOutputChannels, int tembChannels, int numLayers,
        int heads, int transformerDepth, UNet2DConditionConfig c, bool addUpsample, ScalarType? dtype = null, Device? device = null)
        : base(nameof(CrossAttnUpBlock2D))
    {
        AddResnets(resnets, inChannels, prevOutputChannels, outChannels, tembChannels, numLayers, c.NormNumGroups, c.NormEps, dtype, device);
        for (var i = 0; i < numLayers; i++)
            attentions.Add(new Transformer2DModel(heads, outChannels / heads, outChannels, transformerDepth, c.CrossAttentionDim, c.NormNumGroups, c.UseLinearProjection, c.UpcastAttention, dtype, device));
        if (addUpsample)
            upsamplers = new ModuleList<Upsample2D>(new Upsample2D(outChannels, dtype, device));
        RegisterComponents();
    }

    public override Tensor forward(Tensor hiddenStates, IReadOnlyList<Tensor> skips, Tensor temb, Tensor encoderHiddenStates, long[]? upsampleSize)
    {
        var h = hiddenStates;
        for (var i = 0; i < resnets.Count; i++)
        {
            h = RunResnet(resnets[i], h, skips[skips.Count - 1 - i], temb);
            var attention = attentions[i];
            h = GradientCheckpointing
                ? GradientCheckpoint.Run(attention, a => attention.forward(a[0]!, a[1]!), h, encoderHiddenStates)
                : attention.forward(h, encoderHiddenStates);
        }
        return upsamplers is null ? h : upsamplers[0].forward(h, upsampleSize);
    }
}
