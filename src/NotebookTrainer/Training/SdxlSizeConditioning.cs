using NotebookTrainer.Datasets;

namespace NotebookTrainer.Training;

/// <summary>
/// SDXL's six size/crop numbers for a training sample, as sd-scripts computes them (train_util's
/// <c>BaseDataset.__getitem__</c> and <c>BucketManager.get_crop_ltrb</c>): the original image height and width, the crop
/// top and left, and the target (bucket) height and width. The crop is Stability AI's: the image fitted inside the
/// bucket and centred, so it is 0 unless the bucket's aspect differs from the image's; a mirrored sample measures its
/// left edge from the other side. Without bucketing sd-scripts' crop is (0, 0, 0, 0), which makes a mirrored sample's
/// left edge the full width; we keep that, so LoRAs train on the same numbers.
/// </summary>
public static class SdxlSizeConditioning
{
    /// <summary>(original h, original w, crop top, crop left, target h, target w), diffusers' time_ids order.</summary>
    public static float[] TimeIds(TrainingSample sample, (int Width, int Height) bucket, bool flipped, bool enableBucket)
    {
        var (width, height) = sample.ImageSize;
        var (left, top, right, _) = enableBucket ? CropLtrb(bucket, sample.ImageSize) : (0, 0, 0, 0);
        // sd-scripts truncates the float difference, not the difference of truncated values.
        if (flipped) left = bucket.Width - right;
        return [height, width, (int)top, (int)left, bucket.Height, bucket.Width];
    }

    /// <summary>get_crop_ltrb: the image scaled to fit inside the bucket and centred; left and top floored, right and bottom not.</summary>
    public static (double Left, double Top, double Right, double Bottom) CropLtrb((int Width, int Height) bucket, (int Width, int Height) image)
    {
        var bucketAspect = (double)bucket.Width / bucket.Height;
        var imageAspect = (double)image.Width / image.Height;
        var (resizedWidth, resizedHeight) = bucketAspect > imageAspect
            ? (bucket.Height * imageAspect, (double)bucket.Height)
            : (bucket.Width, bucket.Width / imageAspect);
        var left = Math.Floor((bucket.Width - resizedWidth) / 2);
        var top = Math.Floor((bucket.Height - resizedHeight) / 2);
        return (left, top, left + resizedWidth, top + resizedHeight);
    }
}
