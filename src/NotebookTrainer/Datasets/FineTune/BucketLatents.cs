using System.Globalization;
using System.Text.Json.Nodes;
using NotebookTrainer.Configuration;
using NotebookTrainer.Datasets.Bucketing;
using NotebookTrainer.Datasets.Config;
using NotebookTrainer.Images;
using NotebookTrainer.Models;
using NotebookTrainer.Models.Vae;
using NotebookTrainer.Progress;
using NotebookTrainer.Training;
using static TorchSharp.torch;

namespace NotebookTrainer.Datasets.FineTune;

/// <summary>kohya's arguments of prepare_buckets_latents.py (the model and mixed precision are given to <see cref="BucketLatents.Prepare(PrepareBucketsOptions, string, string?, ScalarType?, Device?, Action{string}?, IProgress{ProgressUpdate}?, CancellationToken)"/>).</summary>
public sealed record PrepareBucketsOptions
{
    public required string TrainDataDir { get; init; }
    public required string InJson { get; init; }
    public required string OutJson { get; init; }
    /// <summary>Images encoded together (per bucket).</summary>
    public int BatchSize { get; init; } = 1;
    public (int Width, int Height) MaxResolution { get; init; } = (DatasetDefaults.Resolution, DatasetDefaults.Resolution);
    public int MinBucketReso { get; init; } = DatasetDefaults.MinBucketReso;
    public int MaxBucketReso { get; init; } = DatasetDefaults.MaxBucketReso;
    public int BucketResoSteps { get; init; } = DatasetDefaults.BucketResoSteps;
    public bool BucketNoUpscale { get; init; }
    /// <summary>Images are keyed by full path in the metadata (as merged with full_path).</summary>
    public bool FullPath { get; init; }
    /// <summary>Also cache the latents of the mirrored image (latents_flipped), for training with flip_aug.</summary>
    public bool FlipAug { get; init; }
    /// <summary>Also store each image's alpha channel over the crop (alpha_mask), for training with alpha_mask.</summary>
    public bool AlphaMask { get; init; }
    /// <summary>Keep a .npz that already holds what these settings would write (right bucket, flipped, mask).</summary>
    public bool SkipExisting { get; init; }
    public bool Recursive { get; init; }
    /// <summary>Seeds the posterior samples the latents are drawn from (sd-scripts draws them unseeded).</summary>
    public int Seed { get; init; } = 42;
}

/// <param name="Reused">the existing .npz was kept (skip_existing)</param>
public sealed record PreparedImage(string ImagePath, string Key, (int Width, int Height) ImageSize, BucketAssignment Assignment, string NpzPath, bool Reused);

/// <param name="Buckets">bucket resolutions in sorted order with their image counts (kohya's "bucket i (w, h): n" lines)</param>
/// <param name="Problems">images left out (unreadable, too small for a bucket), and images the metadata did not list</param>
public sealed record PrepareBucketsReport(string OutJson, IReadOnlyList<PreparedImage> Images, IReadOnlyList<((int Width, int Height) Resolution, int Count)> Buckets,
    double MeanAspectError, IReadOnlyList<DatasetProblem> Problems)
{
    public int Encoded => Images.Count(i => !i.Reused);
}

/// <summary>
/// kohya's prepare_buckets_latents.py: every image of the folder goes to its aspect-ratio bucket exactly as training
/// would put it (<see cref="BucketManager"/>), its bucket (rounded down to 8) is recorded as "train_resolution" in the
/// metadata, and its VAE latents (a posterior sample of the resized, centre-cropped image, and of its mirror with
/// flip_aug) are written to a .npz next to it in sd-scripts' format (<see cref="LatentsNpz"/>), so that fine-tuning
/// reads latents instead of images.
/// </summary>
public static class BucketLatents
{
    /// <summary>Loads <paramref name="model"/> (a checkpoint or diffusers folder, as training does) and prepares with its VAE.</summary>
    public static PrepareBucketsReport Prepare(PrepareBucketsOptions options, string model, string? configDir = null, ScalarType? dtype = null, Device? device = null,
        Action<string>? log = null, IProgress<ProgressUpdate>? progress = null, CancellationToken cancellationToken = default)
    {
        Validate(options);
        using var sd = StableDiffusion.Load(model, configDir, dtype, device, progress, cancellationToken);
        return Prepare(options, sd.Vae, log, progress, cancellationToken);
    }

    public static PrepareBucketsReport Prepare(PrepareBucketsOptions options, AutoencoderKL vae,
        Action<string>? log = null, IProgress<ProgressUpdate>? progress = null, CancellationToken cancellationToken = default)
    {
        Validate(options);
        log ??= _ => { };
        if (options.BucketResoSteps % 8 != 0) log("note: bucket_reso_steps is not a multiple of 8; training rounds each bucket down to a multiple of 8.");
        if (options.BucketResoSteps % 32 != 0) log("note: bucket_reso_steps is not a multiple of 32, which SDXL needs.");
        var images = MetadataImages.Find(options.TrainDataDir, options.Recursive);
        log($"found {images.Count} images.");
        if (!File.Exists(options.InJson))
            throw new FileNotFoundException($"{options.InJson}: no metadata file; create it with ntrain metadata merge-captions / merge-tags first.", options.InJson);
        log($"loading existing metadata: {options.InJson}");
        var metadata = FineTuneMetadata.Load(options.InJson);
        foreach (var (key, value) in metadata)
            if (value is not JsonObject)
                throw new InvalidDataException($"{options.InJson}: the entry '{key}' is not an object; make it {{\"caption\": …}} or remove it.");
        if (options.BucketNoUpscale) log("note: min/max bucket reso are not used with bucket_no_upscale: each bucket follows its image.");
        var buckets = new BucketManager(options.MaxResolution, options.MinBucketReso, options.MaxBucketReso, options.BucketResoSteps, options.BucketNoUpscale);

        var encoder = new BatchEncoder(vae, options);
        var subset = new SubsetOptions { AlphaMask = options.AlphaMask };
        var prepared = new List<PreparedImage>();
        var problems = new List<DatasetProblem>();
        var counts = new Dictionary<(int, int), int>();
        var pending = new Dictionary<(int, int), List<(PreparedImage Image, Tensor Pixels, Tensor? Mask)>>();

        // The bucket goes into the metadata in latent units (multiples of 8), as kohya records it.
        void Record(string key, string path, (int Width, int Height) bucket)
        {
            if (metadata[key] is null)
            {
                problems.Add(DatasetProblem.Warning(path, $"'{key}' is not in {options.InJson}, so it is added without caption or tags{KeyHint(metadata, options.FullPath)}."));
                metadata[key] = new JsonObject();
            }
            metadata[key]!["train_resolution"] = new JsonArray(bucket.Width - bucket.Width % 8, bucket.Height - bucket.Height % 8);
            counts[bucket] = counts.GetValueOrDefault(bucket) + 1;
        }

        var tracker = new ProgressTracker("buckets and latents", images.Count, progress);
        try
        {
            foreach (var path in images)
            {
                cancellationToken.ThrowIfCancellationRequested();
                tracker.Advance(detail: Path.GetFileName(path));
                var header = ImageHeader.Read(path);
                if (!header.IsUsable)
                {
                    problems.AddRange(header.Problems.Where(p => p.IsError).Select(p => p with { Message = p.Message + " (left out)" }));
                    continue;
                }
                var assignment = buckets.Select(header.Width, header.Height);
                var bucket = assignment.Bucket;
                if (bucket.Width <= 0 || bucket.Height <= 0)
                {
                    problems.Add(DatasetProblem.Error(path, $"{header.Width}x{header.Height} is smaller than one bucket step ({options.BucketResoSteps}px) with bucket_no_upscale, so it is left out; upscale it or drop it."));
                    continue;
                }
                var key = options.FullPath ? path : Path.GetFileNameWithoutExtension(path);
                var npz = LatentsNpz.PathFor(path);
                var size = (header.Width, header.Height);
                if (options.SkipExisting && LatentsNpz.Check(npz, bucket, encoder.Downsample, options.FlipAug, options.AlphaMask, size) is null)
                {
                    Record(key, path, bucket);
                    prepared.Add(new PreparedImage(path, key, size, assignment, npz, Reused: true));
                    continue;
                }
                (float[] Chw, float[]? Alpha) pixels;
                try
                {
                    pixels = TrainingImageLoader.Load(new TrainingSample(path, "", false, 1f, false, subset, size, assignment.Resized), bucket, new Random(0));
                }
                catch (Exception e) when (e is InvalidDataException or IO.UntrustedFileException or IOException)
                {
                    problems.Add(DatasetProblem.Error(path, $"cannot be read ({IO.Printable.Escape(e.Message)}), so it is left out."));
                    continue;
                }
                Record(key, path, bucket);
                var image = new PreparedImage(path, key, size, assignment, npz, Reused: false);
                prepared.Add(image);
                if (!pending.TryGetValue(bucket, out var batch)) pending[bucket] = batch = [];
                batch.Add((image, tensor(pixels.Chw, [3, bucket.Height, bucket.Width]),
                    pixels.Alpha is null ? null : tensor(pixels.Alpha, [bucket.Height, bucket.Width])));
                if (batch.Count >= options.BatchSize) encoder.Encode(bucket, batch);
            }
            foreach (var (bucket, batch) in pending)
                if (batch.Count > 0) encoder.Encode(bucket, batch);
        }
        finally
        {
            foreach (var item in pending.Values.SelectMany(b => b)) { item.Pixels.Dispose(); item.Mask?.Dispose(); }
        }

        var sorted = counts.OrderBy(c => c.Key).Select(c => ((c.Key.Item1, c.Key.Item2), c.Value)).ToList();
        for (var i = 0; i < sorted.Count; i++) log($"bucket {i} ({sorted[i].Item1.Item1}, {sorted[i].Item1.Item2}): {sorted[i].Value}");
        var meanError = prepared.Select(p => p.Assignment.AspectError).DefaultIfEmpty(0).Average();
        log(string.Create(CultureInfo.InvariantCulture, $"mean ar error: {meanError}"));
        log($"writing metadata: {options.OutJson}");
        FineTuneMetadata.Save(options.OutJson, metadata);
        return new PrepareBucketsReport(Path.GetFullPath(options.OutJson), prepared, sorted, meanError, problems);
    }

    /// <summary>Why an image may be missing: the metadata was merged with the other key style.</summary>
    static string KeyHint(JsonObject metadata, bool fullPath)
    {
        var rooted = metadata.Count(e => Path.IsPathRooted(e.Key));
        if (!fullPath && rooted > metadata.Count / 2) return " (the metadata is keyed by full paths: add --full-path)";
        if (fullPath && rooted <= metadata.Count / 2 && metadata.Count > 0) return " (the metadata is keyed by file names: leave out --full-path)";
        return "";
    }

    static void Validate(PrepareBucketsOptions o)
    {
        if (o.BatchSize < 1) throw new ArgumentException($"batch_size must be at least 1 (got {o.BatchSize}).");
        if (o.BucketResoSteps < 1) throw new ArgumentException($"bucket_reso_steps must be positive (got {o.BucketResoSteps}).");
        if (o.MaxResolution.Width < 1 || o.MaxResolution.Height < 1) throw new ArgumentException($"max_resolution must be positive 'width,height' (got {o.MaxResolution.Width},{o.MaxResolution.Height}).");
        // sd-scripts' BucketManager asserts these.
        if (o.MaxBucketReso < o.MaxResolution.Width || o.MaxBucketReso < o.MaxResolution.Height)
            throw new ArgumentException($"max_bucket_reso {o.MaxBucketReso} is smaller than max_resolution {o.MaxResolution.Width},{o.MaxResolution.Height}; raise it.");
        if (o.MaxBucketReso < o.MinBucketReso)
            throw new ArgumentException($"max_bucket_reso {o.MaxBucketReso} is smaller than min_bucket_reso {o.MinBucketReso}.");
        if (o.Recursive && !o.FullPath)
            throw new ArgumentException("recursive needs full_path: images in different folders may share a file name, so they must be keyed by their full path.");
    }

    /// <summary>Encodes one bucket's batch with the VAE and writes each image's .npz; empties the batch.</summary>
    sealed class BatchEncoder(AutoencoderKL vae, PrepareBucketsOptions options)
    {
        readonly Tensor weight = vae.parameters().First();
        readonly Generator generator = new((ulong)options.Seed, vae.parameters().First().device);

        /// <summary>Image pixels per latent pixel: 8 for SD.</summary>
        public int Downsample { get; } = vae.Config.DownscaleFactor;

        public void Encode((int Width, int Height) bucket, List<(PreparedImage Image, Tensor Pixels, Tensor? Mask)> batch)
        {
            using (no_grad())
            using (NewDisposeScope())
            {
                var images = stack(batch.Select(b => b.Pixels)).to(weight.dtype).to(weight.device);
                using var posterior = vae.encode(images);
                var latents = posterior.sample(generator).to(ScalarType.Float32).cpu();
                Tensor? flipped = null;
                if (options.FlipAug)
                {
                    using var mirrored = vae.encode(images.flip(3));
                    flipped = mirrored.sample(generator).to(ScalarType.Float32).cpu();
                }
                if (latents.isnan().any().item<bool>() || (flipped is not null && flipped.isnan().any().item<bool>()))
                    throw new InvalidDataException($"{batch[0].Image.ImagePath}: the VAE gave NaN latents; use mixed precision \"no\" or \"bf16\" instead of fp16.");
                for (var i = 0; i < batch.Count; i++)
                    LatentsNpz.Write(batch[i].Image.NpzPath, latents[i], batch[i].Image.ImageSize, bucket, flipped?[i], batch[i].Mask);
            }
            foreach (var item in batch) { item.Pixels.Dispose(); item.Mask?.Dispose(); }
            batch.Clear();
        }
    }
}
