using TorchSharp;
using static TorchSharp.torch;
using TorchSharp.Modules;

namespace NotebookTrainer.Networks;

/// <summary>
/// kohya <c>networks.lora</c> LoRA (and LoCon, when the target is a k×k conv): ΔW = up·down · alpha/rank.
/// Linear targets get Linear down/up; conv targets get a down conv with the target's kernel, stride and
/// padding and a 1×1 up conv. Down is kaiming_uniform(a=√5), up starts at zero so a new network is a no-op.
/// </summary>
public sealed class LoraModule : NetworkModule
{
    public nn.Module<Tensor, Tensor> lora_down;
    public nn.Module<Tensor, Tensor> lora_up;
    public Tensor alpha;

    /// <param name="alpha">kohya: 0 or null means alpha = rank (scale 1).</param>
    public LoraModule(string name, TargetLayer target, long rank, double? alpha, ScalarType dtype = ScalarType.Float32, Device? device = null)
        : base(name, target)
    {
        if (rank < 1) throw new ArgumentOutOfRangeException(nameof(rank), $"{name}: LoRA rank must be at least 1 (got {rank}).");
        Rank = rank;
        if (target.Conv is { } conv)
        {
            var down = nn.Conv2d(conv.InChannels, rank, conv.KernelSize, conv.Stride, conv.Padding, bias: false, device: device, dtype: dtype);
            var up = nn.Conv2d(rank, conv.OutChannels, 1, bias: false, device: device, dtype: dtype);
            (lora_down, lora_up) = (down, up);
        }
        else
        {
            var down = nn.Linear(target.InFeatures, rank, hasBias: false, device: device, dtype: dtype);
            var up = nn.Linear(rank, target.OutFeatures, hasBias: false, device: device, dtype: dtype);
            (lora_down, lora_up) = (down, up);
        }
        var a = alpha is null or 0 ? rank : alpha.Value;
        this.alpha = tensor((float)a, device: device);
        using (no_grad())
        {
            if (DownWeight.device.type != DeviceType.META)
            {
                nn.init.kaiming_uniform_(DownWeight, Math.Sqrt(5));
                UpWeight.zero_();
            }
        }
        RegisterComponents();
    }

    public override long Rank { get; }

    public override double Scale => alpha.item<float>() / Rank;

    /// <summary>Probability of zeroing each rank activation, training only.</summary>
    public float Dropout { get; set; }

    /// <summary>Probability of dropping a whole rank for a sample, training only; survivors are rescaled.</summary>
    public float RankDropout { get; set; }

    // Properties, not fields: TorchSharp registers every Parameter field, which would add keys to the state dict.
    public Parameter DownWeight => WeightOf(lora_down);
    public Parameter UpWeight => WeightOf(lora_up);

    static Parameter WeightOf(nn.Module<Tensor, Tensor> layer) => layer switch
    {
        Linear linear => linear.weight!,
        Conv2d conv => conv.weight!,
        _ => throw new InvalidOperationException($"unexpected LoRA layer {layer.GetType().Name}"),
    };

    protected override ScalarType ParameterDType => DownWeight.dtype;

    protected override Tensor Delta(Tensor input)
    {
        var hidden = lora_down.forward(input);
        if (training && Dropout > 0) hidden = nn.functional.dropout(hidden, Dropout, training: true);
        var scale = Scale;
        if (training && RankDropout > 0)
        {
            var mask = (rand(hidden.shape[0], Rank, device: hidden.device) > RankDropout).to(hidden.dtype);
            mask = hidden.dim() switch
            {
                3 => mask.unsqueeze(1),
                4 => mask.unsqueeze(-1).unsqueeze(-1),
                _ => mask,
            };
            hidden = hidden * mask;
            scale /= 1.0 - RankDropout;
        }
        // A held Scalar, not a double: see Optimizer.Held (this runs for every module in every step).
        using var factor = scale.ToScalar();
        return lora_up.forward(hidden).mul(factor);
    }

    public override Tensor DeltaWeight()
    {
        using var scope = NewDisposeScope();
        var (upWeight, downWeight) = (UpWeight, DownWeight);
        Tensor delta;
        if (Target.Conv is null)
            delta = upWeight.matmul(downWeight);
        else if (Target.Conv.KernelSize == 1)
            delta = upWeight.flatten(1).matmul(downWeight.flatten(1)).unsqueeze(2).unsqueeze(3);
        else
            // Compose the k×k down conv with the 1×1 up conv: (out, r) · (r, in, k, k) → (out, in, k, k).
            delta = nn.functional.conv2d(downWeight.permute(1, 0, 2, 3), upWeight).permute(1, 0, 2, 3);
        using var factor = Scale.ToScalar();
        return delta.mul(factor).MoveToOuterDisposeScope();
    }
}
