using NotebookTrainer.Models.Blocks;
using NotebookTrainer.ModelConfigs;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace NotebookTrainer.Models.UNet;

/// <summary>diffusers' <c>UNetMidBlock2DCrossAttn</c>: resnet, then (transformer, resnet).</summary>
public sealed class UNetMidBlock2DCrossAttn : nn.Module
{
    public readonly ModuleList<Transformer2DModel> attentions = new();
    public readonly ModuleList<ResnetBlock2D> resnets = new();

    public UNetMidBlock2DCrossAttn(int channels, int tembChannels, int heads, int transformerDepth, UNet2DConditionConfig c,
        ScalarType? dtype = null, Device? device = null) : base(nameof(UNetMidBlock2DCrossAttn))
    {
        resnets.Add(new ResnetBlock2D(channels, channels, tembChannels, c.NormNumGroups, c.NormEps, dtype, device));
        attentions.Add(new Transformer2DModel(heads, channels / heads, channels, transformerDepth, c.CrossAttentionDim, c.NormNumGroups, c.UseLinearProjection, c.UpcastAttention, dtype, device));
        resnets.Add(new ResnetBlock2D(channels, channels, tembChannels, c.NormNumGroups, c.NormEps, dtype, device));
        RegisterComponents();
    }

    public bool GradientCheckpointing { get; set; }

    public Tensor forward(Tensor hiddenStates, Tensor temb, Tensor encoderHiddenStates)
    {
        var h = Resnet(resnets[0], hiddenStates, temb);
        for (var i = 0; i < attentions.Count; i++)
        {
            var attention = attentions[i];
            h = GradientCheckpointing
                ? GradientCheckpoint.Run(attention, a => attention.forward(a[0]!, a[1]!), h, encoderHiddenStates)
                : attention.forward(h, encoderHiddenStates);
            h = Resnet(resnets[i + 1], h, temb);
        }
        return h;
    }

    Tensor Resnet(ResnetBlock2D resnet, Tensor h, Tensor temb) =>
        GradientCheckpointing ? GradientCheckpoint.Run(resnet, a => resnet.forward(a[0]!, a[1]), h, temb) : resnet.forward(h, temb);
}
