using System.CommandLine;
using System.Globalization;
using NotebookTrainer.Configuration;
using NotebookTrainer.Datasets;
using NotebookTrainer.Datasets.Config;
using NotebookTrainer.Datasets.FineTune;
using static TorchSharp.torch;

using static NotebookTrainer.Cli.CliOptions;

namespace NotebookTrainer.Cli.Commands;

/// <summary>
/// <c>ntrain metadata merge-captions | merge-tags | clean | prepare-buckets</c>, kohya's fine-tuning metadata
/// workflow: options and printing; the work is in NotebookTrainer.Datasets.FineTune.
/// Exit 0 when every image was processed, 1 when some were left out (listed), 2 on a usage or input error.
/// </summary>
public static class MetadataCommands
{
    public static Command Metadata() => new("metadata", "kohya's fine-tuning metadata JSON: merge captions and tags, clean, bucket and encode latents")
    {
        Merge("merge-captions", captions: true), Merge("merge-tags", captions: false), Clean(), PrepareBuckets(),
    };

    /// <summary>The library's ArgumentException names the bad option value (e.g. --recursive without --full-path): a usage error.</summary>
    static Func<ParseResult, int> UsageErrors(Func<ParseResult, int> action) => parse =>
    {
        try { return action(parse); }
        catch (ArgumentException e) { throw new CliException(e.Message); }
    };

    static Argument<string> ImageFolder() => new("dir") { Description = "the image folder" };
    static Argument<string> MetadataToRead() => new("in.json") { Description = "the metadata file to read" };
    static Argument<string> MetadataToWrite() => new("out.json") { Description = "the metadata file to write" };

    static Command Merge(string name, bool captions)
    {
        var dir = ImageFolder();
        var outJson = MetadataToWrite();
        var inJson = new Option<string?>("--in-json") { Description = "metadata to merge into", HelpName = "FILE" };
        var captionExtension = new Option<string?>("--caption-extension") { Description = captions ? "caption extension (default .caption)" : "tag file extension (default .txt)", HelpName = "EXT" };
        var fullPath = Flag("--full-path", "key the metadata by full path, not file name");
        var recursive = Flag("--recursive", "include sub-folders (needs --full-path)");
        var debug = Flag("--debug", "print each image's entry");
        var command = new Command(name, captions ? "Captions (.caption) into kohya's fine-tune metadata JSON" : "Tags (.txt) into kohya's fine-tune metadata JSON")
            { dir, outJson, inJson, captionExtension, fullPath, recursive, debug };
        command.SetAction(UsageErrors(parse =>
        {
            var options = new MetadataMergeOptions
            {
                TrainDataDir = parse.GetRequiredValue(dir),
                OutJson = parse.GetRequiredValue(outJson),
                InJson = parse.GetValue(inJson),
                CaptionExtension = parse.GetValue(captionExtension),
                FullPath = parse.GetValue(fullPath),
                Recursive = parse.GetValue(recursive),
                Debug = parse.GetValue(debug),
            };
            var report = captions ? MetadataMerge.Captions(options, Console.WriteLine) : MetadataMerge.Tags(options, Console.WriteLine);
            Console.WriteLine($"{report.Merged} of {report.Images} images merged into {report.OutJson}.");
            return Finish(report.Problems);
        }));
        return command;
    }

    static Command Clean()
    {
        var inJson = MetadataToRead();
        var outJson = MetadataToWrite();
        var debug = Flag("--debug", "print each change");
        var command = new Command("clean", "kohya's clean_captions_and_tags rules on the metadata") { inJson, outJson, debug };
        command.SetAction(UsageErrors(parse =>
        {
            var report = MetadataCleaner.Clean(parse.GetRequiredValue(inJson), parse.GetRequiredValue(outJson), parse.GetValue(debug), Console.WriteLine);
            Console.WriteLine($"{report.Entries} entries: tags changed in {report.TagsChanged}, captions in {report.CaptionsChanged}; written to {report.OutJson}.");
            return Finish(report.Problems);
        }));
        return command;
    }

    static Command PrepareBuckets()
    {
        var dir = ImageFolder();
        var inJson = MetadataToRead();
        var outJson = MetadataToWrite();
        var model = new Argument<string>("model") { Description = "the model whose VAE encodes the latents (.safetensors/.ckpt or a diffusers folder)" };
        var batchSize = NumberOptions.Whole("--batch-size", 1, "images encoded at once");
        var maxResolution = new Option<string>("--max-resolution") { Description = "largest bucket area, width,height", HelpName = "W,H", DefaultValueFactory = _ => "512,512" };
        var minBucketReso = NumberOptions.Whole("--min-bucket-reso", DatasetDefaults.MinBucketReso, "smallest bucket side");
        var maxBucketReso = NumberOptions.Whole("--max-bucket-reso", DatasetDefaults.MaxBucketReso, "largest bucket side");
        var bucketResoSteps = NumberOptions.Whole("--bucket-reso-steps", DatasetDefaults.BucketResoSteps, "bucket side step");
        var bucketNoUpscale = Flag("--bucket-no-upscale", "never enlarge an image to fit a bucket");
        var fullPath = Flag("--full-path", "the metadata is keyed by full path");
        var flipAug = Flag("--flip-aug", "also encode the mirrored image");
        var alphaMask = Flag("--alpha-mask", "keep the alpha channel as a loss mask");
        var skipExisting = Flag("--skip-existing", "keep latents .npz files already written");
        var recursive = Flag("--recursive", "include sub-folders");
        var mixedPrecision = new Option<string>("--mixed-precision") { Description = "VAE precision: no, fp16 or bf16", HelpName = "no|fp16|bf16", DefaultValueFactory = _ => "no" };
        var config = new Option<string?>("--config") { Description = "the model's config folder, for a single file", HelpName = "DIR" };
        var seed = NumberOptions.Whole("--seed", 42, "random seed");
        var command = new Command("prepare-buckets", "Bucket every image, record train_resolution, write its latents .npz")
        {
            dir, inJson, outJson, model, batchSize, maxResolution, minBucketReso, maxBucketReso, bucketResoSteps, bucketNoUpscale,
            fullPath, flipAug, alphaMask, skipExisting, recursive, mixedPrecision, config, seed,
        };
        command.SetAction(UsageErrors(parse =>
        {
            var options = new PrepareBucketsOptions
            {
                TrainDataDir = parse.GetRequiredValue(dir),
                InJson = parse.GetRequiredValue(inJson),
                OutJson = parse.GetRequiredValue(outJson),
                BatchSize = parse.GetValue(batchSize),
                MaxResolution = Resolution(parse.GetRequiredValue(maxResolution)),
                MinBucketReso = parse.GetValue(minBucketReso),
                MaxBucketReso = parse.GetValue(maxBucketReso),
                BucketResoSteps = parse.GetValue(bucketResoSteps),
                BucketNoUpscale = parse.GetValue(bucketNoUpscale),
                FullPath = parse.GetValue(fullPath),
                FlipAug = parse.GetValue(flipAug),
                AlphaMask = parse.GetValue(alphaMask),
                SkipExisting = parse.GetValue(skipExisting),
                Recursive = parse.GetValue(recursive),
                Seed = parse.GetValue(seed),
            };
            var dtype = parse.GetRequiredValue(mixedPrecision) switch
            {
                "no" => ScalarType.Float32,
                "fp16" => ScalarType.Float16,
                "bf16" => ScalarType.BFloat16,
                var other => throw new CliException($"--mixed-precision must be no, fp16 or bf16, not '{other}'."),
            };
            var report = BucketLatents.Prepare(options, parse.GetRequiredValue(model), parse.GetValue(config), dtype, Runtime.TorchRuntime.DefaultDevice,
                Console.WriteLine, new ConsoleProgress(), Ntrain.Cancellation);
            Console.WriteLine($"{report.Images.Count} images in {report.Buckets.Count} buckets: {report.Encoded} encoded, {report.Images.Count - report.Encoded} kept (--skip-existing); metadata {report.OutJson}.");
            return Finish(report.Problems);
        }));
        return command;
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
