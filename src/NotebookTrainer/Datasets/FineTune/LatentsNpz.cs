using NotebookTrainer.Npz;
using static TorchSharp.torch;

namespace NotebookTrainer.Datasets.FineTune;

/// <summary>
/// sd-scripts' per-image latent cache, a .npz next to the image that prepare_buckets_latents.py and cache_latents_to_disk
/// write and the fine-tune dataset reads: <c>latents</c> float32 (C, H/f, W/f) for the bucket W×H and the VAE's
/// downsampling f (8 for SD), <c>original_size</c> int64 [width, height] of the image before resizing,
/// <c>crop_ltrb</c> float64 [left, top, right, bottom] (BucketManager.get_crop_ltrb), and optionally
/// <c>latents_flipped</c> (the mirrored crop, for flip_aug) and <c>alpha_mask</c> float32 (H, W) in [0, 1].
/// </summary>
public static class LatentsNpz
{
    public const string LatentsKey = "latents";
    public const string OriginalSizeKey = "original_size";
    public const string CropLtrbKey = "crop_ltrb";
    public const string FlippedKey = "latents_flipped";
    public const string AlphaMaskKey = "alpha_mask";

    /// <summary>Where prepare_buckets_latents.py puts an image's cache: the image's folder, its name with .npz.</summary>
    public static string PathFor(string imagePath) =>
        Path.Combine(Path.GetDirectoryName(Path.GetFullPath(imagePath))!, Path.GetFileNameWithoutExtension(imagePath) + ".npz");

    /// <summary>
    /// The cache sd-scripts would use for an image: <c>NAME.npz</c> (prepare_buckets_latents.py, older
    /// cache_latents_to_disk), else <c>NAME_WWWWxHHHH_sd.npz</c> (current cache_latents_to_disk, named by the image
    /// size); null when neither exists.
    /// </summary>
    public static string? Find(string imagePath, (int Width, int Height) imageSize)
    {
        var plain = PathFor(imagePath);
        if (File.Exists(plain)) return plain;
        var sized = Path.Combine(Path.GetDirectoryName(plain)!, $"{Path.GetFileNameWithoutExtension(imagePath)}_{imageSize.Width:D4}x{imageSize.Height:D4}_sd.npz");
        return File.Exists(sized) ? sized : null;
    }

    /// <summary>
    /// sd-scripts' BucketManager.get_crop_ltrb: the image fitted inside the bucket (not covering it), centred, in bucket
    /// pixels; Python's float arithmetic, so two of the four are fractional in general.
    /// </summary>
    public static double[] CropLtrb((int Width, int Height) bucket, (int Width, int Height) imageSize)
    {
        var bucketAspect = (double)bucket.Width / bucket.Height;
        var imageAspect = (double)imageSize.Width / imageSize.Height;
        double width, height;
        if (bucketAspect > imageAspect) (width, height) = (bucket.Height * imageAspect, bucket.Height);
        else (width, height) = (bucket.Width, bucket.Width / imageAspect);
        var left = Math.Floor((bucket.Width - width) / 2);
        var top = Math.Floor((bucket.Height - height) / 2);
        return [left, top, left + width, top + height];
    }

    /// <summary>Writes the cache (atomically) with numpy's dtypes for each entry; latents and masks are stored as float32.</summary>
    public static void Write(string path, Tensor latents, (int Width, int Height) originalSize, (int Width, int Height) bucket, Tensor? flipped = null, Tensor? alphaMask = null)
    {
        var arrays = new List<(string, NpyArray)>
        {
            (LatentsKey, ToNpy(latents)),
            (OriginalSizeKey, NpyArray.Int64([originalSize.Width, originalSize.Height], 2)),
            (CropLtrbKey, NpyArray.Float64(CropLtrb(bucket, originalSize), 4)),
        };
        if (flipped is not null) arrays.Add((FlippedKey, ToNpy(flipped)));
        if (alphaMask is not null) arrays.Add((AlphaMaskKey, ToNpy(alphaMask)));
        NpzWriter.Write(path, arrays);
    }

    static NpyArray ToNpy(Tensor tensor)
    {
        using var values = tensor.detach().to(ScalarType.Float32).cpu().contiguous();
        return NpyArray.Float32(values.data<float>().ToArray(), values.shape);
    }

    /// <summary>
    /// Why the cache at <paramref name="path"/> cannot stand in for encoding the image at <paramref name="bucket"/>, or
    /// null when it can: sd-scripts' is_disk_cached_latents_is_expected (latents, original_size and crop_ltrb present,
    /// latents of the bucket's size, latents_flipped too with <paramref name="flipAug"/>, alpha_mask of the bucket's size
    /// exactly when <paramref name="alphaMask"/> is true, absent when false; null means either). With
    /// <paramref name="downsample"/> null (the VAE is not known yet) any factor of 2 or more, the same on both axes, is
    /// accepted, and the reader checks the VAE's own; with
    /// <paramref name="imageSize"/> original_size must equal it, so a cache of a replaced image is not used.
    /// </summary>
    public static string? Check(string path, (int Width, int Height) bucket, int? downsample, bool flipAug, bool? alphaMask, (int Width, int Height)? imageSize)
    {
        try
        {
            using var npz = NpzFile.Open(path);
            foreach (var key in new[] { LatentsKey, OriginalSizeKey, CropLtrbKey })
                if (!npz.Contains(key)) return $"it has no '{key}' array (an old or foreign cache)";
            if (LatentsMismatch(npz, LatentsKey, bucket, downsample) is { } latents) return latents;
            if (flipAug)
            {
                if (!npz.Contains(FlippedKey)) return $"it has no '{FlippedKey}' array, which flip_aug needs";
                if (LatentsMismatch(npz, FlippedKey, bucket, downsample) is { } flipped) return flipped;
            }
            if (alphaMask == true)
            {
                if (!npz.Contains(AlphaMaskKey)) return $"it has no '{AlphaMaskKey}' array, which alpha_mask needs";
                var shape = npz.Header(AlphaMaskKey).Shape;
                if (shape.Length != 2 || shape[0] != bucket.Height || shape[1] != bucket.Width)
                    return $"its alpha mask is ({string.Join(", ", shape)}), not the bucket's ({bucket.Height}, {bucket.Width})";
            }
            else if (alphaMask == false && npz.Contains(AlphaMaskKey)) return $"it has an '{AlphaMaskKey}' array, which is only made with alpha_mask";
            if (imageSize is { } size)
            {
                var original = npz.Read(OriginalSizeKey).ToFloat64();
                if (original.Length != 2 || original[0] != size.Width || original[1] != size.Height)
                    return $"it was made from a {string.Join("x", original)} image, and the image is now {size.Width}x{size.Height}";
            }
            return null;
        }
        catch (Exception e) when (e is InvalidDataException or IO.UntrustedFileException or IOException)
        {
            return IO.Printable.Escape(e.Message);
        }
    }

    static string? LatentsMismatch(NpzFile npz, string key, (int Width, int Height) bucket, int? downsample)
    {
        var shape = npz.Header(key).Shape;
        if (shape.Length != 3) return $"'{key}' has shape ({string.Join(", ", shape)}), not (channels, height, width)";
        var (h, w) = (shape[1], shape[2]);
        var fits = downsample is { } f
            ? h * f == bucket.Height && w * f == bucket.Width
            : h > 0 && w > 0 && bucket.Height % h == 0 && bucket.Width % w == 0 && bucket.Height / h == bucket.Width / w && bucket.Height / h >= 2;
        return fits ? null : $"'{key}' is {w}x{h}, made for another bucket than {bucket.Width}x{bucket.Height}";
    }

    /// <summary>The latents (or flipped latents) as float32 (C, h, w); the caller owns the tensor.</summary>
    public static Tensor ReadLatents(string path, bool flipped)
    {
        using var npz = NpzFile.Open(path);
        var key = flipped ? FlippedKey : LatentsKey;
        if (!npz.Contains(key)) throw new InvalidDataException($"{path}: no '{key}' array; run ntrain metadata prepare-buckets{(flipped ? " --flip-aug" : "")} again.");
        var array = npz.Read(key);
        return tensor(array.ToFloat32(), array.Shape.ToArray());
    }
}
