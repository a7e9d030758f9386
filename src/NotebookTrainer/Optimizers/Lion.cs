using static TorchSharp.torch;

namespace NotebookTrainer.Optimizers;

/// <summary>Lion (Chen et al. 2023, lion-pytorch): p -= lr·sign(β1·m + (1-β1)·g); m = β2·m + (1-β2)·g; decoupled weight decay.</summary>
public sealed class Lion : Optimizer
{
    readonly double beta1, beta2, weightDecay;

    public Lion(IReadOnlyList<ParameterGroup> groups, double beta1 = 0.9, double beta2 = 0.99, double weightDecay = 0)
        : base(groups) => (this.beta1, this.beta2, this.weightDecay) = (beta1, beta2, weightDecay);

    public override string Name => "Lion";

    protected override void StepCore()
    {
        foreach (var (group, i, p, grad) in ParametersWithGradients())
        {
            var lr = group.LearningRate;
            var m = StateOf(i, "exp_avg", () => zeros_like(p));
            p.mul_(Held(1 - lr * weightDecay));
            var update = m.mul(Held(beta1)).add_(grad, Held(1 - beta1)).sign_();
            p.add_(update, Held(-lr));
            m.mul_(Held(beta2)).add_(grad, Held(1 - beta2));
        }
    }
}
