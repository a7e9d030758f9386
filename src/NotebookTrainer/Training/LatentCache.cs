using System.Security.Cryptography;
using NotebookTrainer.Datasets;
using NotebookTrainer.Datasets.FineTune;
using NotebookTrainer.Images;
using NotebookTrainer.Models.Vae;
using NotebookTrainer.SafeTensors;
using TorchSharp;
using static TorchSharp.torch;

namespace NotebookTrainer.Training;

/// <summary>
/// VAE latents (posterior samples, unscaled, as kohya caches them) per image, bucket and flip, in memory and
/// optionally on disk. A disk entry is named by the image's content hash, the VAE's weight hash and the bucket,
/// so editing an image or switching VAE can never reuse a stale latent. Alpha masks (subsets with alpha_mask) are
/// read from the image on first use and kept in memory as 8-bit alpha under the same key. A fine-tune sample whose
/// image has latents cached by prepare-buckets or sd-scripts (<see cref="TrainingSample.LatentsNpz"/>) reads them from
/// that .npz, as sd-scripts' fine-tune dataset does; it trusts them to come from the same VAE, as sd-scripts does.
/// </summary>
public sealed class LatentCache : IDisposable
{
    readonly AutoencoderKL vae;
    readonly string? diskDir;
    readonly bool keepInMemory;
    readonly Generator generator;
    readonly Dictionary<string, Tensor> memory = new(StringComparer.Ordinal);
    readonly Dictionary<string, Tensor> alphaMasks = new(StringComparer.Ordinal);
    readonly Dictionary<string, string> imageHashes = new(StringComparer.Ordinal);

    public LatentCache(AutoencoderKL vae, string vaeHash, bool keepInMemory, string? diskDir, Generator generator)
    {
        this.vae = vae;
        VaeHash = vaeHash;
        this.keepInMemory = keepInMemory;
        this.diskDir = diskDir;
        this.generator = generator;
    }

    public string VaeHash { get; }
    public int Encoded { get; private set; }
    public int ReadFromDisk { get; private set; }

    /// <summary>SHA-256 over a module's state dict (names and bytes, sorted by name): identifies a VAE's weights.</summary>
    public static string ModuleHash(nn.Module module)
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var (name, t) in module.state_dict().OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            sha.AppendData(System.Text.Encoding.UTF8.GetBytes(name));
            using var flat = t.detach().cpu().contiguous().reshape(-1);
            if (flat.numel() > 0) sha.AppendData(flat.bytes);
        }
        return Convert.ToHexStringLower(sha.GetHashAndReset());
    }

    string ImageHash(string path)
    {
        if (!imageHashes.TryGetValue(path, out var hash))
        {
            using var stream = File.OpenRead(path);
            imageHashes[path] = hash = Convert.ToHexStringLower(SHA256.HashData(stream));
        }
        return hash;
    }

    public string Key(string imagePath, (int Width, int Height) bucket, bool flip) =>
        $"{ImageHash(imagePath)[..24]}-{VaeHash[..16]}-{bucket.Width}x{bucket.Height}{(flip ? "-flip" : "")}";

    /// <summary>Unscaled latents (4, h, w) in float32; the caller owns the returned tensor.</summary>
    public Tensor Get(TrainingSample sample, (int Width, int Height) bucket, bool flip) =>
        TryCached(sample, bucket, flip) ?? Keep(sample, bucket, flip, Encode([(sample, flip)], bucket)[0]);

    /// <summary>
    /// Encodes every latent of <paramref name="work"/> that is not cached yet, up to <paramref name="batchSize"/> images of a
    /// bucket per VAE pass (sd-scripts' vae_batch_size: one pass draws the posterior noise for the whole batch, so the
    /// batch size changes which draw a latent gets, not their distribution). <paramref name="done"/> is called per item.
    /// </summary>
    public void CacheAll(IReadOnlyList<(TrainingSample Sample, (int Width, int Height) Bucket, bool Flip)> work, int batchSize, Action<TrainingSample> done, CancellationToken cancellationToken)
    {
        var pending = new Dictionary<(int, int), List<(TrainingSample Sample, bool Flip)>>();
        void Flush((int Width, int Height) bucket)
        {
            var items = pending[bucket];
            var latents = Encode(items, bucket);
            for (var i = 0; i < items.Count; i++)
            {
                Keep(items[i].Sample, bucket, items[i].Flip, latents[i]).Dispose();
                done(items[i].Sample);
            }
            items.Clear();
        }
        foreach (var (sample, bucket, flip) in work)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (TryCached(sample, bucket, flip) is { } cached)
            {
                cached.Dispose();
                done(sample);
                continue;
            }
            if (!pending.TryGetValue(bucket, out var items)) pending[bucket] = items = [];
            items.Add((sample, flip));
            if (items.Count >= batchSize) Flush(bucket);
        }
        foreach (var bucket in pending.Keys.Where(b => pending[b].Count > 0).ToList()) Flush(bucket);
    }

    /// <summary>The latents from memory, the sample's .npz or the disk cache; null when they must be encoded.</summary>
    Tensor? TryCached(TrainingSample sample, (int Width, int Height) bucket, bool flip)
    {
        var key = Key(sample.ImagePath, bucket, flip);
        if (memory.TryGetValue(key, out var cached)) return cached.clone();
        var file = DiskFile(key);
        Tensor latents;
        if (sample.LatentsNpz is { } npz && ReadNpz(npz, bucket, flip) is { } cachedByPrepare)
            latents = cachedByPrepare;
        else if (file is not null && File.Exists(file))
        {
            using var st = SafeTensorsFile.Open(file);
            latents = st.Load("latents", ScalarType.Float32);
        }
        else return null;
        ReadFromDisk++;
        if (keepInMemory) memory[key] = latents.clone().DetachFromDisposeScope();
        return latents;
    }

    /// <summary>Records freshly encoded <paramref name="latents"/> on disk and in memory, as asked; returns them.</summary>
    Tensor Keep(TrainingSample sample, (int Width, int Height) bucket, bool flip, Tensor latents)
    {
        var key = Key(sample.ImagePath, bucket, flip);
        Encoded++;
        if (DiskFile(key) is { } file)
            SafeTensorsWriter.Write(file, [new("latents", latents)], new Dictionary<string, string> { ["image"] = Path.GetFileName(sample.ImagePath), ["vae_sha256"] = VaeHash });
        if (keepInMemory) memory[key] = latents.clone().DetachFromDisposeScope();
        return latents;
    }

    string? DiskFile(string key) => diskDir is null ? null : Path.Combine(diskDir, key + ".safetensors");

    /// <summary>
    /// Latents from a fine-tune image's .npz (prepare-buckets or sd-scripts), as sd-scripts' fine-tune dataset uses them,
    /// when they have this VAE's channels and size for the bucket; null (encode instead) otherwise.
    /// </summary>
    Tensor? ReadNpz(string npz, (int Width, int Height) bucket, bool flip)
    {
        var latents = LatentsNpz.ReadLatents(npz, flip);
        var factor = vae.Config.DownscaleFactor;
        if (latents.shape.SequenceEqual([vae.Config.LatentChannels, bucket.Height / factor, bucket.Width / factor])) return latents;
        latents.Dispose();
        return null;
    }

    /// <summary>The sample's loss mask (H, W) in [0, 1] over the cached crop, or null when its subset has no alpha_mask.</summary>
    public Tensor? AlphaMask(TrainingSample sample, (int Width, int Height) bucket, bool flip)
    {
        if (!sample.Subset.AlphaMask) return null;
        var key = Key(sample.ImagePath, bucket, flip);
        if (!alphaMasks.TryGetValue(key, out var alpha))
        {
            using var scope = NewDisposeScope();
            var (_, mask) = TrainingPixelsAndMask(sample, bucket, flip, new Random(0));
            alphaMasks[key] = alpha = (mask! * 255).round().to(ScalarType.Byte).DetachFromDisposeScope();
        }
        return alpha.to(ScalarType.Float32) / 255;
    }

    /// <summary>One VAE pass over <paramref name="items"/> (all in <paramref name="bucket"/>): float32 latents (4, h, w) each, owned by the caller.</summary>
    Tensor[] Encode(IReadOnlyList<(TrainingSample Sample, bool Flip)> items, (int Width, int Height) bucket)
    {
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        var weight = vae.parameters().First();
        var images = stack(items.Select(item => TrainingPixels(item.Sample, bucket, item.Flip, new Random(0)))).to(weight.dtype).to(weight.device);
        using var posterior = vae.encode(images);
        var latents = posterior.sample(generator).to(ScalarType.Float32).cpu();
        return Enumerable.Range(0, items.Count).Select(i => latents[i].clone().MoveToOuterDisposeScope()).ToArray();
    }

    /// <summary>
    /// The sample's pixels (3, H, W) in [−1, 1], centre- or randomly cropped; mirrored when <paramref name="flip"/>.
    /// Mirroring the cropped image equals cropping the mirrored one, so cached flipped latents match kohya's flip_aug.
    /// </summary>
    public static Tensor TrainingPixels(TrainingSample sample, (int Width, int Height) bucket, bool flip, Random random) =>
        TrainingPixelsAndMask(sample, bucket, flip, random).Pixels;

    /// <summary><see cref="TrainingPixels"/> and, with the subset's alpha_mask, the alpha (H, W) over the same crop and flip.</summary>
    public static (Tensor Pixels, Tensor? Mask) TrainingPixelsAndMask(TrainingSample sample, (int Width, int Height) bucket, bool flip, Random random)
    {
        var (chw, alpha) = TrainingImageLoader.Load(sample with { FlipAllowed = false }, bucket, random);
        var image = tensor(chw, new long[] { 3, bucket.Height, bucket.Width });
        var mask = alpha is null ? null : tensor(alpha, new long[] { bucket.Height, bucket.Width });
        return flip ? (image.flip(2), mask?.flip(1)) : (image, mask);
    }

    public void Dispose()
    {
        foreach (var t in memory.Values.Concat(alphaMasks.Values)) t.Dispose();
        memory.Clear();
        alphaMasks.Clear();
    }
}
