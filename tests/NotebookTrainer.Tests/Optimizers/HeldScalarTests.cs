using System.Diagnostics;
using NotebookTrainer.Optimizers;
using static TorchSharp.torch;
using Parameter = TorchSharp.Modules.Parameter;

namespace NotebookTrainer.Tests.Optimizers;

/// <summary>
/// A double passed to a TorchSharp operation becomes a temporary Scalar that nothing references once its native handle
/// is read, so the GC can finalize it while libtorch still reads it. Before optimizers held their Scalars, these steps
/// failed within seconds under the garbage a busy process makes ("Expected false to be true" from c10's Scalar), as a
/// 45-minute pretraining run did.
/// </summary>
public class HeldScalarTests
{
    /// <summary>Drops its reference to a held Scalar at once and forces a full collection while the step still runs.</summary>
    sealed class ProbeOptimizer(IReadOnlyList<ParameterGroup> groups) : Optimizer(groups)
    {
        public WeakReference<TorchSharp.Scalar>? Probe { get; private set; }
        public bool AliveAfterCollection { get; private set; }

        public override string Name => "probe";

        protected override void StepCore()
        {
            Probe = HoldAndForget();
            GC.Collect();
            GC.WaitForPendingFinalizers();
            AliveAfterCollection = Probe.TryGetTarget(out var scalar) && scalar.Type == ScalarType.Float64;
        }

        [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
        WeakReference<TorchSharp.Scalar> HoldAndForget() => new(Held(0.5));
    }

    [Fact]
    public void A_held_scalar_lives_until_the_step_ends_and_is_disposed_then()
    {
        var parameter = new Parameter(randn(2));
        parameter.grad = randn(2);
        using var optimizer = new ProbeOptimizer([new ParameterGroup("unet", [parameter], 1e-3)]);

        optimizer.Step();

        Assert.True(optimizer.AliveAfterCollection, "the GC collected a held Scalar during the step");
        Assert.True(optimizer.Probe!.TryGetTarget(out var scalar));
        Assert.Throws<InvalidOperationException>(() => scalar.Type);   // disposed: its native handle is gone
    }

    [Theory]
    [InlineData("AdamW")]
    [InlineData("Adafactor")]
    public void Optimizer_steps_survive_constant_garbage_collection(string kind)
    {
        var parameters = Enumerable.Range(0, 64).Select(_ => new Parameter(randn(4, 4))).ToList();
        foreach (var p in parameters) p.grad = randn(4, 4);
        var groups = new[] { new ParameterGroup("unet", parameters, 1e-3) };
        using Optimizer optimizer = kind == "AdamW" ? new AdamW(groups) : new Adafactor(groups);
        using var stop = new CancellationTokenSource();
        var garbage = new Thread(() =>
        {
            while (!stop.IsCancellationRequested)
            {
                GC.Collect(0);
                GC.WaitForPendingFinalizers();
            }
        }) { IsBackground = true };
        garbage.Start();
        var steps = 0;
        try
        {
            var clock = Stopwatch.StartNew();
            // At least ten steps however loaded the machine is (a busy suite once allowed only two in the three seconds).
            while (steps < 10 || clock.Elapsed < TimeSpan.FromSeconds(3)) { optimizer.Step(); steps++; }
        }
        finally
        {
            stop.Cancel();
            garbage.Join();
        }
        Assert.All(parameters, p => Assert.True(p.isfinite().all().item<bool>()));
    }
}
