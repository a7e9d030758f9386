using NotebookTrainer.Optimizers;
using TorchSharp;
using static TorchSharp.torch;
using TorchSharp.Modules;

namespace NotebookTrainer.Tests.Optimizers;

[Collection(TorchRandom.Collection)]
public class OptimizerTests
{
    public static TheoryData<string, double, string[]> Cases => new()
    {
        { "AdamW", 0.05, [] },
        { "AdamW8bit", 0.05, [] },
        { "Lion", 0.01, ["betas=0.9,0.99", "weight_decay=0.0"] },
        { "SGDNesterov", 0.02, [] },
        { "Prodigy", 1.0, [] },
        { "DAdaptAdam", 1.0, [] },
        { "Adafactor", 0, [] },
        { "Adafactor", 0.05, ["relative_step=False", "scale_parameter=False", "beta1=0.9"] },
    };

    /// <summary>Least squares with a 2-D weight (factored in Adafactor) and a bias (unfactored), split into two groups.</summary>
    sealed class Problem
    {
        public readonly Parameter Weight, Bias;
        readonly Tensor x, y;

        public Problem()
        {
            manual_seed(7);
            x = randn(64, 8);
            y = x.matmul(randn(8, 3)) + 0.5;
            // Non-zero start: Adafactor's scale_parameter makes steps proportional to RMS(p).
            Weight = new Parameter(randn(8, 3) * 0.5);
            Bias = new Parameter(randn(3) * 0.5);
        }

        public List<ParameterGroup> Groups(double lr) => [new("unet", [Weight], lr), new("text_encoder", [Bias], lr)];

        public Tensor Loss() => (x.matmul(Weight) + Bias - y).square().mean();

        public float Train(Optimizer optimizer, int steps)
        {
            for (var i = 0; i < steps; i++)
            {
                optimizer.ZeroGrad();
                using var loss = Loss();
                loss.backward();
                optimizer.Step();
            }
            using var final = Loss();
            return final.item<float>();
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void ReducesLossOnLeastSquares(string type, double lr, string[] args)
    {
        var problem = new Problem();
        float initial;
        using (var l = problem.Loss()) initial = l.item<float>();
        var notes = new List<string>();
        using var optimizer = OptimizerFactory.Create(type, problem.Groups(lr), args, notes.Add);
        var final = problem.Train(optimizer, 300);
        Assert.True(final < initial * 0.2, $"{type}: loss {initial} → {final}");
        Assert.Equal(300, optimizer.StepCount);
        if (type == "AdamW8bit") Assert.Contains(notes, n => n.Contains("32-bit AdamW"));
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void StateDictResumesBitExactly(string type, double lr, string[] args)
    {
        var straight = new Problem();
        using (var optimizer = OptimizerFactory.Create(type, straight.Groups(lr), args)) straight.Train(optimizer, 20);

        var resumed = new Problem();
        Dictionary<string, Tensor> saved;
        using (var first = OptimizerFactory.Create(type, resumed.Groups(lr), args))
        {
            resumed.Train(first, 10);
            saved = first.StateDict();
        }
        var restarted = new Problem();
        using (no_grad())
        {
            restarted.Weight.copy_(resumed.Weight);
            restarted.Bias.copy_(resumed.Bias);
        }
        using (var second = OptimizerFactory.Create(type, restarted.Groups(lr), args))
        {
            second.LoadStateDict(saved);
            Assert.Equal(10, second.StepCount);
            restarted.Train(second, 10);
        }
        Assert.True(restarted.Weight.eq(straight.Weight).all().item<bool>(), type);
        Assert.True(restarted.Bias.eq(straight.Bias).all().item<bool>(), type);
    }

    [Fact]
    public void AdamWFirstStepMatchesTheFormula()
    {
        var p = new Parameter(tensor(new[] { 1.0f, -2.0f }));
        using var optimizer = new NotebookTrainer.Optimizers.AdamW([new ParameterGroup("g", [p], 0.1)], weightDecay: 0.01);
        p.grad = tensor(new[] { 0.5f, -0.25f });
        optimizer.Step();
        // Step 1: m̂ = g, v̂ = g², so the update is lr·g/(|g|+eps) after decaying p by (1 - lr·wd).
        var expected = new[] { 1.0 * (1 - 0.001) - 0.1 * 0.5 / (0.5 + 1e-8), -2.0 * (1 - 0.001) + 0.1 * 0.25 / (0.25 + 1e-8) };
        var actual = p.data<float>().ToArray();
        Assert.Equal(expected[0], actual[0], 5);
        Assert.Equal(expected[1], actual[1], 5);
    }

    [Fact]
    public void BadOptimizerSettingsAreExplained()
    {
        var problem = new Problem();
        var unknown = Assert.Throws<ArgumentException>(() => OptimizerFactory.Create("Adam", problem.Groups(1e-3)));
        Assert.Contains("AdamW", unknown.Message);
        var typo = Assert.Throws<ArgumentException>(() => OptimizerFactory.Create("AdamW", problem.Groups(1e-3), ["weight_decy=0.1"]));
        Assert.Contains("weight_decy", typo.Message);
        Assert.Contains("weight_decay", typo.Message);
        var mixed = Assert.Throws<ArgumentException>(() => new Prodigy([new("unet", [problem.Weight], 1.0), new("text_encoder", [problem.Bias], 0.5)]));
        Assert.Contains("text_encoder=0.5", mixed.Message);
    }
}
