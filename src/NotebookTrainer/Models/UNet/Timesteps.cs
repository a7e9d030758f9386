using TorchSharp;
using static TorchSharp.torch;

namespace NotebookTrainer.Models.UNet;

/// <summary>
/// diffusers' <c>Timesteps</c>: sinusoidal timestep features, exp(−ln(10000)·i/(half − freq_shift)) frequencies,
/// [cos, sin] order when flip_sin_to_cos (Stable Diffusion), else [sin, cos].
/// </summary>
public sealed class Timesteps : nn.Module<Tensor, Tensor>
{
    readonly int _channels;
    readonly bool _flipSinToCos;
    readonly double _freqShift;

    public Timesteps(int channels, bool flipSinToCos, double freqShift) : base(nameof(Timesteps))
    {
        _channels = channels;
        _flipSinToCos = flipSinToCos;
        _freqShift = freqShift;
        RegisterComponents();
    }

    public override Tensor forward(Tensor timesteps)
    {
        using var scope = NewDisposeScope();
        var half = _channels / 2;
        var exponent = arange(0, half, dtype: ScalarType.Float32, device: timesteps.device) * -Math.Log(10000) / (half - _freqShift);
        var angles = timesteps.to(ScalarType.Float32).unsqueeze(1) * exponent.exp().unsqueeze(0);
        var emb = _flipSinToCos ? cat([angles.cos(), angles.sin()], 1) : cat([angles.sin(), angles.cos()], 1);
        if (_channels % 2 == 1)
            emb = nn.functional.pad(emb, [0, 1]);
        return emb.MoveToOuterDisposeScope();
    }
}
