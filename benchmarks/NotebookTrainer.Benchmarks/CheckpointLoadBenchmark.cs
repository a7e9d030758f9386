using System.Diagnostics;
using System.Globalization;
using NotebookTrainer.Checkpoints;
using NotebookTrainer.SafeTensors;
using TorchSharp;
using static TorchSharp.torch;

namespace NotebookTrainer.Benchmarks;

/// <summary>
/// Load time and peak memory of a full-size SD1.5-shaped single file (1,131 fp16 tensors of the real shapes, zeros),
/// loaded as stored (fp16) and converted to fp32, each in a fresh child process so peak RSS is that load's alone.
/// Baseline: reading the file's bytes once (page cache warm). Targets: fp16 load within 2× of the raw read, and
/// peak RSS no more than the loaded tensors plus the mapped file (≈ 2× the file for fp16, 3× for fp32).
/// Usage: checkpoint-load [folder for the 2.1 GB temp file]
/// </summary>
public static class CheckpointLoadBenchmark
{
    public static int Run(string[] args)
    {
        if (args is ["--child", var childMode, var childPath]) return Child(childMode, childPath);

        var dir = Path.Combine(args.Length > 0 ? args[0] : Path.GetTempPath(), "nt-bench-ckpt-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        try
        {
            var path = Path.Combine(dir, "sd15-shaped-fp16.safetensors");
            var clock = Stopwatch.StartNew();
            var count = Generate(path);
            var size = new FileInfo(path).Length;
            Console.WriteLine($"generated {count} tensors, {size / 1e9:0.000} GB, in {clock.Elapsed.TotalSeconds:0.00} s ({size / 1e9 / clock.Elapsed.TotalSeconds:0.00} GB/s write)");

            clock.Restart();
            using (var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20))
            {
                var buffer = new byte[1 << 22];
                while (stream.Read(buffer, 0, buffer.Length) > 0) { }
            }
            var read = clock.Elapsed.TotalSeconds;
            Console.WriteLine($"baseline: read the file once in {read:0.000} s ({size / 1e9 / read:0.00} GB/s)");

            foreach (var mode in new[] { "fp16", "fp32" })
            {
                var (seconds, peakRss, anon) = RunChild(mode, path);
                Console.WriteLine($"{mode}: load {seconds:0.000} s ({size / 1e9 / seconds:0.00} GB/s of file, {seconds / read:0.00}× the raw read), " +
                    $"peak RSS {peakRss / 1e9:0.00} GB ({(double)peakRss / size:0.00}× file), anonymous after load {anon / 1e9:0.00} GB");
            }
            return 0;
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    static int Generate(string path)
    {
        var configs = DiffusersConfigs.Defaults(ModelArchitecture.StableDiffusion1);
        var tensors = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var mapping in SingleFileLayout.Mappings(ModelArchitecture.StableDiffusion1, configs))
            tensors.TryAdd(mapping.LdmName, torch.zeros(mapping.LdmShape, ScalarType.Float16));
        tensors["cond_stage_model.transformer.text_model.embeddings.position_ids"] = torch.arange(0, 77, ScalarType.Int64).unsqueeze(0);
        SafeTensorsWriter.Write(path, tensors, new Dictionary<string, string> { ["format"] = "pt" });
        foreach (var tensor in tensors.Values) tensor.Dispose();
        return tensors.Count;
    }

    static (double Seconds, long PeakRss, long Anonymous) RunChild(string mode, string path)
    {
        var start = new ProcessStartInfo(Environment.ProcessPath!) { RedirectStandardOutput = true };
        if (Path.GetFileNameWithoutExtension(Environment.ProcessPath) == "dotnet")
            start.ArgumentList.Add(typeof(CheckpointLoadBenchmark).Assembly.Location);
        foreach (var a in new[] { "checkpoint-load", "--child", mode, path }) start.ArgumentList.Add(a);
        using var child = Process.Start(start)!;
        var line = child.StandardOutput.ReadToEnd().Trim().Split('\n')[^1].Split(' ');
        child.WaitForExit();
        if (child.ExitCode != 0) throw new InvalidOperationException($"child load ({mode}) failed with exit code {child.ExitCode}");
        return (double.Parse(line[0], CultureInfo.InvariantCulture), long.Parse(line[1], CultureInfo.InvariantCulture), long.Parse(line[2], CultureInfo.InvariantCulture));
    }

    static int Child(string mode, string path)
    {
        var dtype = mode == "fp32" ? ScalarType.Float32 : (ScalarType?)null;
        torch.zeros(1).Dispose(); // libtorch initialised outside the timed region
        var clock = Stopwatch.StartNew();
        using var weights = CheckpointLoader.Load(path, dtype: dtype);
        var seconds = clock.Elapsed.TotalSeconds;
        var status = File.ReadAllLines("/proc/self/status");
        long Kb(string key) => long.Parse(status.First(l => l.StartsWith(key, StringComparison.Ordinal)).Split(':')[1].Trim().Split(' ')[0], CultureInfo.InvariantCulture) * 1024;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{seconds} {Kb("VmHWM")} {Kb("RssAnon")}"));
        return 0;
    }
}
