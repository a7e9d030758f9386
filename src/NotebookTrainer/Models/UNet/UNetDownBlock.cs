using NotebookTrainer.Models.Blocks;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace NotebookTrainer.Models.UNet;

/// <summary>What <see cref="CrossAttnDownBlock2D"/> and <see cref="DownBlock2D"/> share: resnets and an optional downsampler.</summary>
public abstract class UNetDownBlock : nn.Module
{
    public readonly ModuleList<ResnetBlock2D> resnets = new();
    public ModuleList<Downsample2D>? downsamplers;

    protected UNetDownBlock(string name) : base(name) { }

    /// <summary>Recompute activations in backward instead of keeping them (see <see cref="GradientCheckpoint"/>).</summary>
    public bool GradientCheckpointing { get; set; }

    /// <returns>The block output and every intermediate state the up path consumes as skip connections.</returns>
    public abstract (Tensor Output, List<Tensor> Skips) forward(Tensor hiddenStates, Tensor temb, Tensor encoderHiddenStates);

    protected Tensor RunResnet(ResnetBlock2D resnet, Tensor hiddenStates, Tensor temb) =>
        GradientCheckpointing
            ? GradientCheckpoint.Run(resnet, a => resnet.forward(a[0]!, a[1]), hiddenStates, temb)
            : resnet.forward(hiddenStates, temb);
}
