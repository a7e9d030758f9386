using System.Globalization;
using NotebookTrainer.Configuration;
using NotebookTrainer.Datasets;
using NotebookTrainer.Datasets.Config;
using NotebookTrainer.Datasets.FineTune;
using static TorchSharp.torch;

namespace NotebookTrainer.Cli.Commands;

/// <summary>
/// <c>ntrain metadata merge-captions | merge-tags | clean | prepare-buckets</c>, kohya's fine-tuning metadata
/// workflow: argument parsing and printing; the work is in NotebookTrainer.Datasets.FineTune.
/// Exit 0 when every image was processed, 1 when some were left out (listed), 2 on a usage or input error.
/// </summary>
public static class MetadataCommands
{
    public static int Run(string[] args)
    {
        if (args.Length == 0) throw new CliException("missing subcommand: use merge-captions, merge-tags, clean or prepare-buckets.");
        try
        {
            return args[0] switch
            {
                "merge-captions" => Merge(args[1..], captions: true),
                "merge-tags" => Merge(args[1..], captions: false),
                "clean" => Clean(args[1..]),
                "prepare-buckets" => PrepareBuckets(args[1..]),
                _ => throw new CliException($"unknown subcommand '{args[0]}': use merge-captions, merge-tags, clean or prepare-buckets."),
            };
        }
        catch (ArgumentException e)
        {
            throw new CliException(e.Message);
        }
    }

    static int Merge(string[] args, bool captions)
    {
        var a = new CliArgs(args, ["in-json", "caption-extension"], ["full-path", "recursive", "debug"]);
        if (a.Positionals.Count > 2) throw new CliException($"give an image folder and the metadata file to write, got {a.Positionals.Count} arguments.");
        var options = new MetadataMergeOptions
        {
            TrainDataDir = a.Positional(0, "the image folder"),
            OutJson = a.Positional(1, "the metadata file to write (.json)"),
            InJson = a.Option("in-json"),
            CaptionExtension = a.Option("caption-extension"),
            FullPath = a.Flag("full-path"),
            Recursive = a.Flag("recursive"),
            Debug = a.Flag("debug"),
        };
        var report = captions ? MetadataMerge.Captions(options, Console.WriteLine) : MetadataMerge.Tags(options, Console.WriteLine);
        Console.WriteLine($"{report.Merged} of {report.Images} images merged into {report.OutJson}.");
        return Finish(report.Problems);
    }

    static int Clean(string[] args)
    {
        var a = new CliArgs(args, [], ["debug"]);
        if (a.Positionals.Count > 2) throw new CliException($"give the metadata file to read and the one to write, got {a.Positionals.Count} arguments.");
        var report = MetadataCleaner.Clean(a.Positional(0, "the metadata file to read (.json)"), a.Positional(1, "the metadata file to write (.json)"), a.Flag("debug"), Console.WriteLine);
        Console.WriteLine($"{report.Entries} entries: tags changed in {report.TagsChanged}, captions in {report.CaptionsChanged}; written to {report.OutJson}.");
        return Finish(report.Problems);
    }

    static int PrepareBuckets(string[] args)
    {
        var a = new CliArgs(args,
            ["config", "batch-size", "max-resolution", "min-bucket-reso", "max-bucket-reso", "bucket-reso-steps", "mixed-precision", "seed"],
            ["bucket-no-upscale", "full-path", "flip-aug", "alpha-mask", "skip-existing", "recursive"]);
        if (a.Positionals.Count > 4) throw new CliException($"give the image folder, the metadata to read, the metadata to write and the model, got {a.Positionals.Count} arguments.");
        var options = new PrepareBucketsOptions
        {
            TrainDataDir = a.Positional(0, "the image folder"),
            InJson = a.Positional(1, "the metadata file to read (.json)"),
            OutJson = a.Positional(2, "the metadata file to write (.json)"),
            BatchSize = a.Int("batch-size", 1),
            MaxResolution = Resolution(a.Option("max-resolution") ?? "512,512"),
            MinBucketReso = a.Int("min-bucket-reso", DatasetDefaults.MinBucketReso),
            MaxBucketReso = a.Int("max-bucket-reso", DatasetDefaults.MaxBucketReso),
            BucketResoSteps = a.Int("bucket-reso-steps", DatasetDefaults.BucketResoSteps),
            BucketNoUpscale = a.Flag("bucket-no-upscale"),
            FullPath = a.Flag("full-path"),
            FlipAug = a.Flag("flip-aug"),
            AlphaMask = a.Flag("alpha-mask"),
            SkipExisting = a.Flag("skip-existing"),
            Recursive = a.Flag("recursive"),
            Seed = a.Int("seed", 42),
        };
        var model = a.Positional(3, "the model whose VAE encodes the latents (.safetensors/.ckpt or a diffusers folder)");
        var dtype = a.Option("mixed-precision") switch
        {
            null or "no" => ScalarType.Float32,
            "fp16" => ScalarType.Float16,
            "bf16" => ScalarType.BFloat16,
            var other => throw new CliException($"--mixed-precision must be no, fp16 or bf16, not '{other}'."),
        };
        var report = BucketLatents.Prepare(options, model, a.Option("config"), dtype, Runtime.TorchRuntime.DefaultDevice,
            Console.WriteLine, new ConsoleProgress(), Ntrain.Cancellation);
        Console.WriteLine($"{report.Images.Count} images in {report.Buckets.Count} buckets: {report.Encoded} encoded, {report.Images.Count - report.Encoded} kept (--skip-existing); metadata {report.OutJson}.");
        return Finish(report.Problems);
    }

    /// <summary>kohya's "width,height".</summary>
    static (int Width, int Height) Resolution(string text)
    {
        var parts = text.Split(',');
        if (parts.Length == 2 && int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var w) && int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var h) && w > 0 && h > 0)
            return (w, h);
        throw new CliException($"--max-resolution must be 'width,height', e.g. 512,512 (got '{text}').");
    }

    static int Finish(IReadOnlyList<DatasetProblem> problems)
    {
        foreach (var problem in problems) Console.Error.WriteLine(problem);
        return problems.Any(p => p.IsError) ? 1 : 0;
    }
}
