using System.Buffers.Binary;
using System.Diagnostics;
using NotebookTrainer.Training;
using static TorchSharp.torch;

namespace NotebookTrainer.Benchmarks;

/// <summary>
/// Our event-file writer against TorchSharp's <c>torch.utils.tensorboard.SummaryWriter</c> on what training logs (two
/// scalars per step): time per step, and the wall time each file records against the clock — TensorBoard's "Relative"
/// and "Wall" axes read it as seconds since the Unix epoch.
/// </summary>
static class TensorBoardWriters
{
    public static void Run(string[] args)
    {
        var steps = args.Length > 0 ? int.Parse(args[0]) : 2000;
        var root = Directory.CreateTempSubdirectory("ntrain-tb-bench-").FullName;
        try
        {
            var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() / 1000.0;
            var ours = Time(steps, Path.Combine(root, "ours"), dir =>
            {
                var writer = new TensorBoardWriter(dir);
                return (step => writer.AddScalars(step, [("loss/current", 0.1f), ("lr/unet", 1e-4f)]), writer.Dispose);
            });
            var theirs = Time(steps, Path.Combine(root, "torchsharp"), dir =>
            {
                var writer = utils.tensorboard.SummaryWriter(dir);
                return (step =>
                {
                    writer.add_scalar("loss/current", 0.1f, step);
                    writer.add_scalar("lr/unet", 1e-4f, step);
                }, () => { });
            });
            var theirsWithTime = Time(steps, Path.Combine(root, "torchsharp-walltime"), dir =>
            {
                var writer = utils.tensorboard.SummaryWriter(dir);
                return (step =>
                {
                    var unix = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
                    writer.add_scalar("loss/current", 0.1f, step, unix);
                    writer.add_scalar("lr/unet", 1e-4f, step, unix);
                }, () => { });
            });
            Console.WriteLine($"{steps} steps, two scalars each; clock now {now:F3} s since 1970");
            Report("ours (TensorBoardWriter)", ours);
            Report("TorchSharp SummaryWriter", theirs);
            Report("TorchSharp, walltime passed", theirsWithTime);
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    static (double MicrosecondsPerStep, string File, int Steps) Time(int steps, string dir, Func<string, (Action<int> Step, Action Close)> open)
    {
        var (step, close) = open(dir);
        var clock = Stopwatch.StartNew();
        for (var i = 1; i <= steps; i++) step(i);
        close();
        return (clock.Elapsed.TotalMicroseconds / steps, Directory.GetFiles(dir).Single(), steps);
    }

    static void Report(string name, (double MicrosecondsPerStep, string File, int Steps) run)
    {
        var times = WallTimes(run.File);
        var distinct = times.Skip(1).Distinct().Count();
        Console.WriteLine($"{name,-28} {run.MicrosecondsPerStep,8:F1} µs/step  file {new FileInfo(run.File).Length / 1024.0,7:F1} KiB  " +
            $"wall time: file-version event {times[0]:G10}, scalars {times[1]:F3} … {times[^1]:F3} ({distinct} distinct values)");
    }

    /// <summary>The wall_time (field 1, double) of every event record in the file.</summary>
    static List<double> WallTimes(string path)
    {
        var bytes = File.ReadAllBytes(path);
        var times = new List<double>();
        for (var at = 0; at < bytes.Length;)
        {
            var length = (int)BinaryPrimitives.ReadUInt64LittleEndian(bytes.AsSpan(at));
            var payload = new Google.Protobuf.CodedInputStream(bytes.AsSpan(at + 12, length).ToArray());
            var wallTime = 0.0;
            for (uint tag; (tag = payload.ReadTag()) != 0;)
            {
                if (tag == Google.Protobuf.WireFormat.MakeTag(1, Google.Protobuf.WireFormat.WireType.Fixed64)) wallTime = payload.ReadDouble();
                else payload.SkipLastField();
            }
            times.Add(wallTime);
            at += 12 + length + 4;
        }
        return times;
    }
}
