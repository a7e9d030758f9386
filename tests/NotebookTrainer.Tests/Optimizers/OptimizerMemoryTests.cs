using NotebookTrainer.Optimizers;
using TorchSharp;
using static TorchSharp.torch;
using TorchSharp.Modules;

namespace NotebookTrainer.Tests.Optimizers;

/// <summary>
/// A step must free each parameter's temporaries before the next parameter: held until the step ends they add up to
/// several times the weights (Adafactor on a full SD1.5 U-Net in bf16 ran out of 24 GB that way).
/// </summary>
public class OptimizerMemoryTests
{
    /// <summary>Makes two temporaries per parameter, as every optimizer's update does, and counts live tensors.</summary>
    sealed class CountingOptimizer(IReadOnlyList<ParameterGroup> groups) : Optimizer(groups)
    {
        public List<long> LiveAtEachParameter { get; } = [];

        public override string Name => "counting";

        protected override void StepCore()
        {
            foreach (var (_, _, p, grad) in ParametersWithGradients())
            {
                LiveAtEachParameter.Add(DisposeScopeManager.Statistics.ThreadTotalLiveCount);
                p.add_(grad.mul(2).neg(), 1e-3);
            }
        }
    }

    [Fact]
    public void Each_parameters_temporaries_are_freed_before_the_next_parameter()
    {
        var parameters = Enumerable.Range(0, 8).Select(_ => new Parameter(randn(4, 4))).ToList();
        foreach (var p in parameters) p.grad = randn(4, 4);
        using var optimizer = new CountingOptimizer([new ParameterGroup("unet", parameters, 1e-3)]);

        optimizer.Step();

        Assert.Equal(8, optimizer.LiveAtEachParameter.Count);
        Assert.All(optimizer.LiveAtEachParameter, live => Assert.Equal(optimizer.LiveAtEachParameter[0], live));
        foreach (var p in parameters) p.Dispose();
    }

    [Theory]
    [InlineData("AdamW")]
    [InlineData("Adafactor")]
    [InlineData("Lion")]
    [InlineData("SGDNesterov")]
    [InlineData("Prodigy")]
    [InlineData("DAdaptAdam")]
    public void A_step_leaves_only_the_optimizers_state(string optimizerType)
    {
        var parameters = Enumerable.Range(0, 8).Select(_ => new Parameter(randn(4, 4))).ToList();
        foreach (var p in parameters) p.grad = randn(4, 4);
        using var optimizer = OptimizerFactory.Create(optimizerType, [new ParameterGroup("unet", parameters, 1e-3)]);
        optimizer.Step();
        var live = DisposeScopeManager.Statistics.ThreadTotalLiveCount;

        optimizer.Step();

        Assert.Equal(live, DisposeScopeManager.Statistics.ThreadTotalLiveCount);
        foreach (var p in parameters) p.Dispose();
    }
}
