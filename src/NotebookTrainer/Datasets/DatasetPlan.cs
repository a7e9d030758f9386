using NotebookTrainer.Configuration;
using NotebookTrainer.Datasets.Bucketing;
using NotebookTrainer.Datasets.Captions;
using NotebookTrainer.Datasets.Config;
using NotebookTrainer.Images;
using NotebookTrainer.Progress;

namespace NotebookTrainer.Datasets;

/// <summary>
/// One image as the dataset sees it. <see cref="Repeats"/> is what training uses (after reg balancing; 0 = not
/// used); <see cref="Bucket"/> is null when the image cannot be used (see <see cref="Problems"/>).
/// </summary>
public sealed record PlannedImage(
    string Path, int Width, int Height, ImageFormat Format, string? Caption, bool IsReg, int Repeats,
    int DatasetIndex, SubsetOptions Subset, BucketAssignment? Bucket, IReadOnlyList<DatasetProblem> Problems)
{
    public bool IsUsable => Bucket != null && Caption != null && !Problems.Any(p => p.IsError);
    /// <summary>A fine-tune image's cached latents (sd-scripts' .npz next to it) that fit its bucket; null when it is encoded.</summary>
    public string? LatentsNpz { get; init; }
}

/// <summary>One sample of a batch. Caption is the raw caption; the training loop runs <see cref="CaptionProcessor"/> on it with <see cref="Subset"/>.</summary>
public sealed record TrainingSample(
    string ImagePath, string Caption, bool IsReg, float LossWeight, bool FlipAllowed, SubsetOptions Subset,
    (int Width, int Height) ImageSize, (int Width, int Height) ResizedSize)
{
    /// <summary>See <see cref="PlannedImage.LatentsNpz"/>.</summary>
    public string? LatentsNpz { get; init; }
}

/// <summary>Samples sharing one bucket resolution (the last batch of a bucket may be short).</summary>
public sealed record TrainingBatch(int DatasetIndex, (int Width, int Height) Resolution, IReadOnlyList<TrainingSample> Samples);

/// <summary>A bucket: <see cref="Count"/> counts repeats (what kohya prints), <see cref="Images"/> distinct images.</summary>
public sealed record BucketSummary(int DatasetIndex, (int Width, int Height) Resolution, int Count, int Images, int Batches);

/// <summary>Training-side settings the plan needs besides the config.</summary>
public sealed record DatasetPlanOptions
{
    public int Seed { get; init; } = 42;
    public float PriorLossWeight { get; init; } = 1.0f;
}

/// <summary>
/// Every usable image × its repeats, grouped into buckets and batches the way kohya's DreamBooth/fine-tune datasets do.
/// <see cref="BatchesForEpoch"/> gives the shuffled batch list of an epoch; <see cref="BatchesPerEpoch"/> is the
/// number of optimiser steps per epoch.
/// </summary>
public sealed class DatasetPlan
{
    public DatasetConfig Config { get; }
    public DatasetPlanOptions Options { get; }
    public IReadOnlyList<PlannedImage> Images { get; }
    /// <summary>Config warnings plus dataset- and subset-level problems (file-level ones are on each image too).</summary>
    public IReadOnlyList<DatasetProblem> Problems { get; }
    public IReadOnlyList<BucketSummary> Buckets { get; }
    /// <summary>Train images counted with repeats (kohya's num_train_images).</summary>
    public int NumTrainImages { get; }
    /// <summary>Regularisation images counted with repeats after balancing (kohya's num_reg_images).</summary>
    public int NumRegImages { get; }
    public int BatchesPerEpoch => Buckets.Sum(b => b.Batches);

    /// <summary>
    /// The images held out by validation_split (with their subsets' repeats, no regularisation images), batched like
    /// training; null without a split. Its <see cref="Options"/> seed is the validation seed.
    /// </summary>
    public DatasetPlan? Validation { get; }

    public StepPlan Steps(int epochs) => new(NumTrainImages, NumRegImages, BatchesPerEpoch, epochs);

    readonly List<(int DatasetIndex, (int Width, int Height) Resolution, List<TrainingSample> Samples, int BatchSize)> bucketSamples;

    DatasetPlan(DatasetConfig config, DatasetPlanOptions options, List<PlannedImage> images, List<DatasetProblem> problems, DatasetPlan? validation)
    {
        Config = config;
        Options = options;
        Images = images;
        Problems = problems;
        Validation = validation;
        NumTrainImages = (int)images.Where(i => !i.IsReg && i.IsUsable).Sum(i => (long)i.Repeats);
        NumRegImages = (int)images.Where(i => i.IsReg && i.IsUsable).Sum(i => (long)i.Repeats);

        bucketSamples = [];
        foreach (var dataset in config.Datasets)
        {
            var groups = images
                .Where(i => i.DatasetIndex == dataset.Index && i.IsUsable && i.Repeats > 0)
                .GroupBy(i => i.Bucket!.Value.Bucket)
                .OrderBy(g => g.Key);
            foreach (var group in groups)
            {
                var samples = new List<TrainingSample>();
                foreach (var image in group)
                {
                    var sample = new TrainingSample(image.Path, image.Caption!, image.IsReg, image.IsReg ? options.PriorLossWeight : 1.0f,
                        image.Subset.FlipAug, image.Subset, (image.Width, image.Height), image.Bucket!.Value.Resized) { LatentsNpz = image.LatentsNpz };
                    for (var r = 0; r < image.Repeats; r++) samples.Add(sample);
                }
                bucketSamples.Add((dataset.Index, group.Key, samples, dataset.BatchSize));
            }
        }
        Buckets = bucketSamples
            .Select(b => new BucketSummary(b.DatasetIndex, b.Resolution, b.Samples.Count, b.Samples.Distinct().Count(), (int)((b.Samples.Count + (long)b.BatchSize - 1) / b.BatchSize)))
            .ToList();
    }

    /// <summary>
    /// The batches of one epoch: each bucket's samples shuffled, cut into batch_size pieces, and the whole batch list
    /// shuffled, all with <c>new Random(seed + epoch)</c>, so an epoch is reproducible on its own.
    /// </summary>
    public IReadOnlyList<TrainingBatch> BatchesForEpoch(int epoch)
    {
        var random = new Random(unchecked(Options.Seed + epoch));
        var batches = new List<TrainingBatch>(BatchesPerEpoch);
        foreach (var (datasetIndex, resolution, samples, batchSize) in bucketSamples)
        {
            var shuffled = samples.ToArray();
            random.Shuffle(shuffled);
            for (var start = 0; start < shuffled.Length; start += batchSize)
                batches.Add(new TrainingBatch(datasetIndex, resolution, shuffled[start..Math.Min(start + batchSize, shuffled.Length)]));
        }
        var order = batches.ToArray();
        random.Shuffle(order);
        return order;
    }

    public static DatasetPlan Build(DatasetConfig config, DatasetPlanOptions? options = null,
        IProgress<ProgressUpdate>? progress = null, CancellationToken cancellationToken = default)
    {
        options ??= new DatasetPlanOptions();
        var problems = new List<DatasetProblem>(config.Warnings);
        var sources = new List<(DatasetOptions Dataset, SubsetOptions Subset, List<(string Path, string? MetadataCaption)> Train, List<(string Path, string? MetadataCaption)> Validation)>();
        foreach (var dataset in config.Datasets)
        {
            if (dataset.ValidationSplit is < 0 or >= 1)
                problems.Add(DatasetProblem.Error(config.SourceFile, $"validation_split {dataset.ValidationSplit} of dataset {dataset.Index} is out of range; use a fraction in [0, 1), e.g. 0.1.", key: "validation_split"));
            foreach (var subset in dataset.Subsets)
            {
                if (subset.FaceCropAugRange is not null) problems.Add(NotApplied(config.SourceFile, $"{subset.KeyPath}.face_crop_aug_range", "images are cropped to the bucket as without it"));
                var files = ListFiles(subset, problems);
                var (train, validation) = ValidationSplit(files, subset, dataset, options.Seed);
                sources.Add((dataset, subset, train, validation));
            }
        }

        var distinct = sources.SelectMany(s => s.Train.Concat(s.Validation).Select(f => (s.Dataset, s.Subset, f.Path, f.MetadataCaption)))
            .DistinctBy(f => (f.Subset, f.Path)).ToList();
        var tracker = new ProgressTracker("dataset: reading headers", distinct.Count, progress);
        var read = new PlannedImage[distinct.Count];
        var buckets = config.Datasets.ToDictionary(d => d.Index, d => d.EnableBucket
            ? new BucketManager(d.Resolution, d.MinBucketReso, d.MaxBucketReso, d.BucketResoSteps, d.BucketNoUpscale)
            : BucketManager.Fixed(d.Resolution));
        Parallel.For(0, distinct.Count, new ParallelOptions { CancellationToken = cancellationToken }, i =>
        {
            var (dataset, subset, path, caption) = distinct[i];
            read[i] = ReadImage(path, caption, dataset, subset, buckets[dataset.Index]);
        });
        tracker.Advance(distinct.Count);
        var byFile = read.ToDictionary(i => (i.Subset, i.Path));

        var images = new List<PlannedImage>();
        var validationImages = new List<PlannedImage>();
        foreach (var (dataset, subset, train, validation) in sources)
        {
            var subsetImages = train.Select(f => byFile[(subset, f.Path)]).ToArray();
            MarkDuplicateStems(subsetImages);
            if (subsetImages.Count(i => i.IsUsable) == 0)
                problems.Add(DatasetProblem.Warning(subset.ImageDir ?? subset.MetadataFile ?? "", "no usable images in this subset, so it is skipped; check image_dir and the problems listed for its files.", subset.Line, subset.KeyPath));
            images.AddRange(subsetImages);
            var held = validation.Select(f => byFile[(subset, f.Path)]).ToArray();
            MarkDuplicateStems(held);
            validationImages.AddRange(held);
        }

        var samples = images.Where(i => i.IsUsable).Sum(i => (long)i.Repeats);
        var maxSamples = IO.InputLimits.Current.MaxSamplesPerEpoch;
        if (samples > maxSamples)
        {
            problems.Add(DatasetProblem.Error(config.SourceFile, $"{samples:N0} images × repeats in one epoch, more than {maxSamples:N0} ({IO.InputLimits.VariableFor(nameof(IO.InputLimits.MaxSamplesPerEpoch))}); lower num_repeats (and raise the epochs) or split the dataset."));
            for (var i = 0; i < images.Count; i++) images[i] = images[i] with { Repeats = 0 };
        }
        foreach (var dataset in config.Datasets) BalanceRegularisation(images, dataset.Index, problems);
        if (!images.Any(i => i.IsUsable && !i.IsReg))
            problems.Add(DatasetProblem.Error(config.SourceFile, "no usable training images; check image_dir / train_data_dir and the problems above."));

        DatasetPlan? validationPlan = null;
        if (config.Datasets.Any(d => d.ValidationSplit > 0))
        {
            if (validationImages.Any(i => i.IsUsable))
                validationPlan = new DatasetPlan(config, options with { Seed = ValidationSeedOf(config, options) }, validationImages, [], null);
            else
                problems.Add(DatasetProblem.Warning(config.SourceFile, "validation_split leaves no usable validation images (each subset holds out round(images × split) of its own, and none of its reg images); raise validation_split or add images, or there is no validation loss.", key: "validation_split"));
        }
        return new DatasetPlan(config, options, images, problems, validationPlan);
    }

    static int ValidationSeedOf(DatasetConfig config, DatasetPlanOptions options) =>
        config.Datasets.FirstOrDefault(d => d.ValidationSplit > 0)?.ValidationSeed ?? options.Seed;

    /// <summary>
    /// sd-scripts' split_train_val for one subset: the files (in their listed order) shuffled by Python's
    /// random.seed(validation_seed) + shuffle; training keeps the first ⌈n·(1 − split)⌉, validation takes the last
    /// round(n·split) (Python's round, ties to even; for some n the two overlap by one image, as in sd-scripts).
    /// Regularisation subsets are not split: all of them train, none validate. Without validation_seed the training
    /// seed shuffles (sd-scripts continues its global random state there, which gives no reproducible split). Unlike
    /// sd-scripts, fine-tuning (metadata) subsets are split too: sd-scripts validates those on the training images.
    /// </summary>
    static (List<(string Path, string? Caption)> Train, List<(string Path, string? Caption)> Validation) ValidationSplit(
        List<(string Path, string? Caption)> files, SubsetOptions subset, DatasetOptions dataset, int seed)
    {
        if (dataset.ValidationSplit is <= 0 or >= 1 || files.Count == 0) return (files, []);
        if (subset.IsReg) return (files, []);
        var shuffled = files.ToList();
        new PythonRandom(dataset.ValidationSeed ?? seed).Shuffle(shuffled);
        var trainCount = (int)Math.Ceiling(shuffled.Count * (1 - dataset.ValidationSplit));
        var validationStart = shuffled.Count - (int)Math.Round(shuffled.Count * dataset.ValidationSplit, MidpointRounding.ToEven);
        return (shuffled[..trainCount], shuffled[validationStart..]);
    }

    /// <summary>
    /// An option this trainer does not implement. Training without it would silently differ from what was asked, so it
    /// is an error (as the training config refuses these keys), and the fix is to remove it.
    /// </summary>
    static DatasetProblem NotApplied(string? file, string key, string consequence) =>
        DatasetProblem.Error(file ?? "", $"{key} is not supported by this trainer yet ({consequence}); remove it, or set it to its default, to train.", key: key);

    static List<(string, string?)> ListFiles(SubsetOptions subset, List<DatasetProblem> problems)
    {
        if (subset.MetadataFile != null) return FineTuneMetadata.Read(subset, problems);
        var dir = subset.ImageDir!;
        if (!Directory.Exists(dir))
        {
            problems.Add(DatasetProblem.Warning(dir, "image_dir does not exist, so this subset is skipped (kohya: not directory); fix the path.", subset.Line, $"{subset.KeyPath}.image_dir"));
            return [];
        }
        return Directory.EnumerateFiles(dir)
            .Where(ImageExtensions.IsImage)
            .Order(StringComparer.Ordinal)
            .Select(p => (p, (string?)null))
            .ToList();
    }

    static PlannedImage ReadImage(string path, string? metadataCaption, DatasetOptions dataset, SubsetOptions subset, BucketManager buckets)
    {
        var header = ImageHeader.Read(path);
        var problems = new List<DatasetProblem>(header.Problems);
        var caption = subset.IsFineTune ? metadataCaption : CaptionFile.Read(path, subset, problems);
        BucketAssignment? bucket = header.IsUsable ? buckets.Select(header.Width, header.Height) : null;
        if (bucket != null && dataset.SkipImageResolution is { } skip && (long)header.Width * header.Height <= (long)skip.Width * skip.Height)
        {
            problems.Add(DatasetProblem.Warning(path, $"skipped: {header.Width}x{header.Height} is not larger than skip_image_resolution {skip.Width}x{skip.Height}."));
            bucket = null;
        }
        if (bucket is { } b && (b.Bucket.Width <= 0 || b.Bucket.Height <= 0))
        {
            problems.Add(DatasetProblem.Error(path, $"image {header.Width}x{header.Height} is smaller than one bucket step ({buckets.Step}px) with bucket_no_upscale; upscale it or drop it."));
            bucket = null;
        }
        return new PlannedImage(path, header.Width, header.Height, header.Format, caption, subset.IsReg, subset.NumRepeats,
            dataset.Index, subset, bucket, problems) { LatentsNpz = subset.IsFineTune && bucket is { } fit ? CachedLatents(path, header, subset, fit.Bucket, problems) : null };
    }

    /// <summary>
    /// A fine-tune image's .npz from prepare-buckets (or sd-scripts) when it holds latents for this bucket (and flipped
    /// ones with flip_aug) made from an image of this size; otherwise a warning says why the image is encoded instead.
    /// </summary>
    static string? CachedLatents(string path, ImageHeaderInfo header, SubsetOptions subset, (int Width, int Height) bucket, List<DatasetProblem> problems)
    {
        if (FineTune.LatentsNpz.Find(path, (header.Width, header.Height)) is not { } npz) return null;
        if (subset.RandomCrop || subset.ColorAug)
        {
            problems.Add(DatasetProblem.Warning(npz, "cached latents not used: random_crop and color_aug change the pixels every step, so the image is encoded instead."));
            return null;
        }
        if (FineTune.LatentsNpz.Check(npz, bucket, downsample: null, subset.FlipAug, alphaMask: null, (header.Width, header.Height)) is not { } why) return npz;
        problems.Add(DatasetProblem.Warning(npz, $"cached latents not used: {why}; the image is encoded instead. Run ntrain metadata prepare-buckets with this dataset's resolution and bucket settings{(subset.FlipAug ? " and --flip-aug" : "")} to make them fit."));
        return null;
    }

    /// <summary>a.png and a.jpg in one folder share a.txt and the a.npz latent cache: keep the first, refuse the others.</summary>
    static void MarkDuplicateStems(PlannedImage[] images)
    {
        var firstByStem = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i < images.Length; i++)
        {
            var key = Path.Combine(Path.GetDirectoryName(images[i].Path) ?? "", Path.GetFileNameWithoutExtension(images[i].Path));
            if (firstByStem.TryGetValue(key, out var first))
            {
                var problems = images[i].Problems.Append(DatasetProblem.Error(images[i].Path,
                    $"duplicate file name stem: '{Path.GetFileName(first)}' in the same folder has the same name, so both would share one caption and latent cache; rename or delete one.")).ToList();
                images[i] = images[i] with { Problems = problems };
            }
            else firstByStem[key] = images[i].Path;
        }
    }

    /// <summary>
    /// kohya repeats regularisation images until they match the train images: each reg image with its repeats in
    /// order until the count is reached, then +1 repeat round-robin. Reg images not reached are unused (0 repeats).
    /// </summary>
    static void BalanceRegularisation(List<PlannedImage> images, int datasetIndex, List<DatasetProblem> problems)
    {
        var train = images.Where(i => i.DatasetIndex == datasetIndex && !i.IsReg && i.IsUsable).Sum(i => i.Repeats);
        var regIndices = Enumerable.Range(0, images.Count).Where(i => images[i].DatasetIndex == datasetIndex && images[i].IsReg && images[i].IsUsable).ToList();
        if (regIndices.Count == 0 || train == 0) return;
        var repeats = regIndices.ToDictionary(i => i, _ => 0);
        var count = 0;
        var firstLoop = true;
        while (count < train)
        {
            foreach (var i in regIndices)
            {
                if (firstLoop) { repeats[i] = images[i].Repeats; count += images[i].Repeats; }
                else { repeats[i]++; count++; }
                if (count >= train) break;
            }
            firstLoop = false;
        }
        foreach (var i in regIndices) images[i] = images[i] with { Repeats = repeats[i] };
        var unused = regIndices.Count(i => repeats[i] == 0);
        if (unused > 0)
            problems.Add(DatasetProblem.Warning("", $"dataset {datasetIndex}: {unused} of {regIndices.Count} regularisation images are not used because the reg images (with repeats) already outnumber the {train} training images (kohya balances them to the same count)."));
    }
}
