using TorchSharp;
using static TorchSharp.torch;
using TorchSharp.Modules;

namespace NotebookTrainer.Networks;

/// <summary>
/// LyCORIS LoHa: ΔW = (hada_w1_a·hada_w1_b) ⊙ (hada_w2_a·hada_w2_b) · alpha/rank, reshaped to the target weight
/// (convs flatten in·k·k into the b factors). Init as LyCORIS: w1_a ~ N(0, 0.1), w1_b and w2_b ~ N(0, 1),
/// w2_a = 0, so a new network is a no-op. Dropouts as LyCORIS: module_dropout skips the module, rank_dropout zeroes
/// whole output rows of ΔW (not rescaled, LyCORIS' rank_dropout_scale = false); plain dropout has no LoHa form
/// (LyCORIS warns and ignores it, and so do we).
/// </summary>
public sealed class LohaModule : NetworkModule
{
    public Parameter hada_w1_a;
    public Parameter hada_w1_b;
    public Parameter hada_w2_a;
    public Parameter hada_w2_b;
    public Tensor alpha;

    public LohaModule(string name, TargetLayer target, long rank, double? alpha, ScalarType dtype = ScalarType.Float32, Device? device = null)
        : base(name, target)
    {
        if (rank < 1) throw new ArgumentOutOfRangeException(nameof(rank), $"{name}: LoHa rank must be at least 1 (got {rank}).");
        Rank = rank;
        var fanIn = target.InFeatures * target.KernelSize * target.KernelSize;
        hada_w1_a = new Parameter(empty(target.OutFeatures, rank, dtype: dtype, device: device));
        hada_w1_b = new Parameter(empty(rank, fanIn, dtype: dtype, device: device));
        hada_w2_a = new Parameter(empty(target.OutFeatures, rank, dtype: dtype, device: device));
        hada_w2_b = new Parameter(empty(rank, fanIn, dtype: dtype, device: device));
        this.alpha = tensor((float)(alpha is null or 0 ? rank : alpha.Value), device: device);
        using (no_grad())
        {
            if (hada_w1_a.device.type != DeviceType.META)
            {
                nn.init.normal_(hada_w1_a, std: 0.1);
                nn.init.normal_(hada_w1_b, std: 1);
                hada_w2_a.zero_();
                nn.init.normal_(hada_w2_b, std: 1);
            }
        }
        RegisterComponents();
    }

    public override long Rank { get; }

    /// <summary>Training only: the probability that an output row of ΔW is dropped for a step.</summary>
    public float RankDropout { get; set; }

    public override double Scale => alpha.item<float>() / Rank;

    protected override ScalarType ParameterDType => hada_w1_a.dtype;

    public override Tensor DeltaWeight()
    {
        using var scope = NewDisposeScope();
        using var factor = Scale.ToScalar();
        var delta = hada_w1_a.matmul(hada_w1_b).mul(hada_w2_a.matmul(hada_w2_b)).mul(factor);
        return delta.reshape(Target.Weight.shape).MoveToOuterDisposeScope();
    }

    protected override Tensor Delta(Tensor input)
    {
        var delta = DeltaWeight();
        if (training && RankDropout > 0)
        {
            var keep = (rand(delta.shape[0], device: delta.device) > RankDropout).to(delta.dtype);
            delta = delta * keep.reshape([-1, .. Enumerable.Repeat(1L, (int)delta.dim() - 1)]);
        }
        return ApplyLikeTarget(input, delta);
    }
}
