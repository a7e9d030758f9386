using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;

namespace NotebookTrainer.Benchmarks;

/// <summary>
/// How libtorch's idle OpenMP threads should wait, from numbers: the world U-Net's training step (<c>tiny-step world</c>)
/// run in a child process under each policy — sleep at once (our default), spin 300,000 rounds then sleep, spin until
/// work comes — alone, beside one busy thread (a build, a browser), and beside a second training process under the
/// same policy. The policy is read by libgomp when libtorch loads, so each figure needs its own process.
/// </summary>
static partial class ThreadWaitBenchmark
{
    static readonly (string Name, string Variable, string Value)[] Policies =
    [
        ("sleep at once (default)", "OMP_WAIT_POLICY", "PASSIVE"),
        ("spin 300k, then sleep", "GOMP_SPINCOUNT", "300000"),
        ("spin (ACTIVE)", "OMP_WAIT_POLICY", "ACTIVE"),
    ];

    public static void Run(string[] args)
    {
        Console.WriteLine($"{"policy",-26} {"alone",12} {"+1 busy thread",16} {"+1 training",13}");
        double? passiveAlone = null;
        foreach (var (name, variable, value) in Policies)
        {
            var alone = StepMilliseconds(variable, value, companions: 0);
            var busy = WithBusyThread(() => StepMilliseconds(variable, value, companions: 0));
            var paired = StepMilliseconds(variable, value, companions: 1);
            passiveAlone ??= alone;
            Console.WriteLine($"{name,-26} {alone,9:F0} ms {busy,13:F0} ms {paired,10:F0} ms   alone: {passiveAlone / alone:F2}x the default's speed");
        }
        Console.WriteLine("ms per world U-Net fwd+bwd step (batch 32, 8x8 latents); '+1 training' runs two such processes at once.");
    }

    /// <summary>Runs <c>tiny-step world</c> in <paramref name="companions"/> + 1 processes at once; returns the first one's step time.</summary>
    static double StepMilliseconds(string variable, string value, int companions)
    {
        var processes = Enumerable.Range(0, companions + 1).Select(_ => Start(variable, value)).ToList();
        var outputs = processes.Select(p => p.StandardOutput.ReadToEndAsync()).ToList();
        foreach (var p in processes) p.WaitForExit();
        var match = StepLine().Match(outputs[0].Result);
        if (!match.Success) throw new InvalidOperationException($"tiny-step printed no step time:\n{outputs[0].Result}");
        return double.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture);
    }

    static Process Start(string variable, string value)
    {
        var self = Environment.ProcessPath!;
        var start = new ProcessStartInfo(self) { RedirectStandardOutput = true, UseShellExecute = false };
        if (Path.GetFileNameWithoutExtension(self) == "dotnet") start.ArgumentList.Add(typeof(ThreadWaitBenchmark).Assembly.Location);
        foreach (var a in new[] { "tiny-step", "world" }) start.ArgumentList.Add(a);
        start.Environment.Remove("OMP_WAIT_POLICY");
        start.Environment.Remove("GOMP_SPINCOUNT");
        start.Environment[variable] = value;
        return Process.Start(start)!;
    }

    static double WithBusyThread(Func<double> measure)
    {
        using var stop = new CancellationTokenSource();
        var busy = new Thread(() => { while (!stop.IsCancellationRequested) Thread.SpinWait(1000); }) { IsBackground = true };
        busy.Start();
        try { return measure(); }
        finally { stop.Cancel(); busy.Join(); }
    }

    [GeneratedRegex(@"checkpointing off: ([0-9.]+) ms/step")]
    private static partial Regex StepLine();
}
