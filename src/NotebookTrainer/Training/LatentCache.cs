using System.Security.Cryptography;
using NotebookTrainer.Datasets;
using NotebookTrainer.Images;
using NotebookTrainer.Models.Vae;
using NotebookTrainer.SafeTensors;
using TorchSharp;
using static TorchSharp.torch;

namespace NotebookTrainer.Training;

/// <summary>
/// VAE latents (posterior samples, unscaled, as kohya caches them) per image, bucket and flip, in memory and
/// optionally on disk. A disk entry is named by the image's content hash, the VAE's weight hash and the bucket,
/// so editing an image or switching VAE can never reuse a stale latent.
/// </summary>
public sealed class LatentCache : IDisposable
{
    readonly AutoencoderKL vae;
    readonly string? diskDir;
    readonly bool keepInMemory;
    readonly Generator generator;
    readonly Dictionary<string, Tensor> memory = new(StringComparer.Ordinal);
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
    public Tensor Get(TrainingSample sample, (int Width, int Height) bucket, bool flip)
    {
        var imagePath = sample.ImagePath;
        var key = Key(imagePath, bucket, flip);
        if (memory.TryGetValue(key, out var cached)) return cached.clone();
        var file = diskDir is null ? null : Path.Combine(diskDir, key + ".safetensors");
        Tensor latents;
        if (file is not null && File.Exists(file))
        {
            using var st = SafeTensorsFile.Open(file);
            latents = st.Load("latents", ScalarType.Float32);
            ReadFromDisk++;
        }
        else
        {
            latents = Encode(sample, bucket, flip);
            Encoded++;
            if (file is not null)
                SafeTensorsWriter.Write(file, [new("latents", latents)], new Dictionary<string, string> { ["image"] = Path.GetFileName(imagePath), ["vae_sha256"] = VaeHash });
        }
        if (keepInMemory) memory[key] = latents.clone().DetachFromDisposeScope();
        return latents;
    }

    Tensor Encode(TrainingSample sample, (int Width, int Height) bucket, bool flip)
    {
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        var weight = vae.parameters().First();
        var image = TrainingPixels(sample, bucket, flip, new Random(0)).unsqueeze(0).to(weight.dtype).to(weight.device);
        using var posterior = vae.encode(image);
        return posterior.sample(generator).squeeze(0).to(ScalarType.Float32).cpu().MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The sample's pixels (3, H, W) in [−1, 1], centre- or randomly cropped; mirrored when <paramref name="flip"/>.
    /// Mirroring the cropped image equals cropping the mirrored one, so cached flipped latents match kohya's flip_aug.
    /// </summary>
    public static Tensor TrainingPixels(TrainingSample sample, (int Width, int Height) bucket, bool flip, Random random)
    {
        var chw = TrainingImageLoader.LoadChw(sample with { FlipAllowed = false }, bucket, random);
        var image = tensor(chw, new long[] { 3, bucket.Height, bucket.Width });
        return flip ? image.flip(2) : image;
    }

    public void Dispose()
    {
        foreach (var t in memory.Values) t.Dispose();
        memory.Clear();
    }
}
