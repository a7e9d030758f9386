using static TorchSharp.torch;

namespace NotebookTrainer.Optimizers;

/// <summary>torch.optim.SGD with nesterov=True, as kohya's SGDNesterov (momentum 0.9 unless given).</summary>
public sealed class SgdNesterov : Optimizer
{
    readonly double momentum, weightDecay;

    public SgdNesterov(IReadOnlyList<ParameterGroup> groups, double momentum = 0.9, double weightDecay = 0)
        : base(groups)
    {
        if (momentum <= 0) throw new ArgumentException("SGDNesterov needs momentum > 0 (optimizer_args momentum=0.9).");
        (this.momentum, this.weightDecay) = (momentum, weightDecay);
    }

    public override string Name => "SGDNesterov";

    protected override void StepCore()
    {
        foreach (var (group, i, p, grad) in ParametersWithGradients())
        {
            var g = weightDecay != 0 ? grad.add(p, Held(weightDecay)) : grad;
            var created = false;
            var buffer = StateOf(i, "momentum_buffer", () => { created = true; return g.clone(); });
            if (!created) buffer.mul_(Held(momentum)).add_(g, Held(1));
            p.add_(g.add(buffer, Held(momentum)), Held(-group.LearningRate));
        }
    }
}
