using NotebookTrainer.Optimizers;

namespace NotebookTrainer.Tests.Optimizers;

public class LearningRateScheduleTests
{
    const double Lr = 1e-3;

    static void AssertSchedule(LearningRateSchedule schedule, Func<long, double> formula, params long[] steps)
    {
        foreach (var step in steps)
            Assert.Equal(formula(step), schedule.LearningRate(Lr, step), 12);
    }

    [Fact]
    public void Constant() => AssertSchedule(new("constant", 100, 10), _ => Lr, 0, 5, 50, 99);

    [Fact]
    public void ConstantWithWarmup() =>
        AssertSchedule(new("constant_with_warmup", 100, 10), s => s < 10 ? Lr * s / 10.0 : Lr, 0, 1, 5, 9, 10, 50, 99);

    [Fact]
    public void Linear() =>
        AssertSchedule(new("linear", 100, 20), s => s < 20 ? Lr * s / 20.0 : Lr * (100 - s) / 80.0, 0, 10, 20, 60, 99, 100);

    [Fact]
    public void Cosine() =>
        AssertSchedule(new("cosine", 100, 0), s => Lr * 0.5 * (1 + Math.Cos(Math.PI * s / 100.0)), 0, 25, 50, 75, 99);

    [Fact]
    public void CosineWithRestarts()
    {
        var schedule = new LearningRateSchedule("cosine_with_restarts", 110, 10, numCycles: 3);
        AssertSchedule(schedule, s =>
        {
            if (s < 10) return Lr * s / 10.0;
            var progress = (s - 10) / 100.0;
            return progress >= 1 ? 0 : Lr * 0.5 * (1 + Math.Cos(Math.PI * (3 * progress % 1.0)));
        }, 0, 5, 10, 30, 43, 44, 77, 100, 109, 110);
        Assert.Equal(Lr, schedule.LearningRate(Lr, 10 + 34), 5); // a restart: each cycle spans 100/3 steps
    }

    [Fact]
    public void Polynomial()
    {
        var end = LearningRateSchedule.PolynomialEnd;
        AssertSchedule(new("polynomial", 100, 10, power: 2), s =>
            s < 10 ? Lr * s / 10.0 : (Lr - end) * Math.Pow(1 - (s - 10) / 90.0, 2) + end, 0, 5, 10, 40, 99, 100);
    }

    [Theory]
    [InlineData(0.1, 500, 50)]
    [InlineData(0.0, 500, 0)]
    [InlineData(25, 500, 25)]
    public void WarmupIsARatioBelowOne(double value, long total, long expected) =>
        Assert.Equal(expected, LearningRateSchedule.ResolveWarmup(value, total));

    [Fact]
    public void UnknownSchedulerNamesTheChoices()
    {
        var e = Assert.Throws<ArgumentException>(() => new LearningRateSchedule("cosine_annealing", 10, 0));
        Assert.Contains("cosine_with_restarts", e.Message);
    }
}
