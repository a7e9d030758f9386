using NotebookTrainer.Models.Blocks;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace NotebookTrainer.Models.UNet;

/// <summary>What <see cref="CrossAttnUpBlock2D"/> and <see cref="UpBlock2D"/> share: resnets fed with skip connections and an optional upsampler.</summary>
public abstract class UNetUpBlock : nn.Module
{
    public readonly ModuleList<ResnetBlock2D> resnets = new();
    public ModuleList<Upsample2D>? upsamplers;

    protected UNetUpBlock(string name) : base(name) { }

    public bool GradientCheckpointing { get; set; }

    /// <param name="skips">The down path's states for this block, consumed from the last.</param>
    /// <param name="upsampleSize">Output size of the upsampler when the input size is not a multiple of the total downscale.</param>
    public abstract Tensor forward(Tensor hiddenStates, IReadOnlyList<Tensor> skips, Tensor temb, Tensor encoderHiddenStates, long[]? upsampleSize);

    protected Tensor RunResnet(ResnetBlock2D resnet, Tensor hiddenStates, Tensor skip, Tensor temb)
    {
        using var joined = cat([hiddenStates, skip], 1);
        return GradientCheckpointing
            ? GradientCheckpoint.Run(resnet, a => resnet.forward(a[0]!, a[1]), joined, temb)
            : resnet.forward(joined, temb);
    }

    protected static void AddResnets(ModuleList<ResnetBlock2D> resnets, int inChannels, int prevOutputChannels, int outChannels,
        int tembChannels, int numLayers, int groups, double eps, ScalarType? dtype, Device? device)
    {
        for (var i = 0; i < numLayers; i++)
        {
            var skipChannels = i == numLayers - 1 ? inChannels : outChannels;
            var resnetInChannels = i == 0 ? prevOutputChannels : outChannels;
            resnets.Add(new ResnetBlock2D(resnetInChannels + skipChannels, outChannels, tembChannels, groups, eps, dtype, device));
        }
    }
}
