namespace NotebookTrainer.Datasets.Bucketing;

/// <summary>Where one image goes: its bucket, the size it is resized to (covering the bucket) and the aspect error.</summary>
public readonly record struct BucketAssignment((int Width, int Height) Bucket, (int Width, int Height) Resized, double AspectError);

/// <summary>
/// kohya's aspect-ratio bucketing (library/model_util.py make_bucket_resolutions and train_util.BucketManager):
/// predefined buckets of about the training area, each image to the bucket nearest its aspect ratio, resized to
/// cover it and centre-cropped; or with no_upscale, shrunk to the area only when larger and cropped to the step.
/// </summary>
public sealed class BucketManager
{
    public (int Width, int Height) MaxReso { get; }
    public int MinSize { get; }
    public int MaxSize { get; }
    public int Step { get; }
    public bool NoUpscale { get; }
    /// <summary>Predefined buckets sorted by (width, height); empty with no_upscale, where buckets follow the images.</summary>
    public IReadOnlyList<(int Width, int Height)> Resolutions { get; }

    readonly HashSet<(int, int)> resolutionSet;
    readonly double[] aspectRatios;

    public BucketManager((int Width, int Height) maxReso, int minSize, int maxSize, int step, bool noUpscale = false)
        : this(maxReso, minSize, maxSize, step, noUpscale, noUpscale ? [] : MakeBucketResolutions(maxReso, minSize, maxSize, step))
    {
    }

    /// <summary>enable_bucket = false: a single bucket equal to the resolution; every image is resized to cover it and cropped.</summary>
    public static BucketManager Fixed((int Width, int Height) resolution) =>
        new(resolution, 0, 0, 64, noUpscale: false, [resolution]);

    BucketManager((int Width, int Height) maxReso, int minSize, int maxSize, int step, bool noUpscale, IReadOnlyList<(int Width, int Height)> resolutions)
    {
        if (step <= 0) throw new ArgumentOutOfRangeException(nameof(step), step, "bucket step must be positive");
        MaxReso = maxReso;
        MinSize = minSize;
        MaxSize = maxSize;
        Step = step;
        NoUpscale = noUpscale;
        Resolutions = resolutions;
        resolutionSet = Resolutions.Select(r => (r.Width, r.Height)).ToHashSet();
        aspectRatios = Resolutions.Select(r => (double)r.Width / r.Height).ToArray();
    }

    /// <summary>Buckets of area at most W×H: the square, then for every width step the tallest height that fits, and its transpose.</summary>
    public static IReadOnlyList<(int Width, int Height)> MakeBucketResolutions((int Width, int Height) maxReso, int minSize, int maxSize, int step)
    {
        long area = (long)maxReso.Width * maxReso.Height;
        var set = new SortedSet<(int, int)>();
        var side = (int)(Math.Floor(Math.Sqrt(area) / step) * step);
        set.Add((side, side));
        for (var w = minSize; w <= maxSize; w += step)
        {
            var h = (int)Math.Min(maxSize, area / w / step * step);
            if (h >= minSize)
            {
                set.Add((w, h));
                set.Add((h, w));
            }
        }
        return set.Select(r => (r.Item1, r.Item2)).ToArray();
    }

    public BucketAssignment Select(int imageWidth, int imageHeight)
    {
        var aspect = (double)imageWidth / imageHeight;
        (int W, int H) reso, resized;
        if (!NoUpscale)
        {
            if (resolutionSet.Contains((imageWidth, imageHeight)))
            {
                reso = (imageWidth, imageHeight);
                resized = reso;
            }
            else
            {
                var best = 0;
                for (var i = 1; i < aspectRatios.Length; i++)
                    if (Math.Abs(aspectRatios[i] - aspect) < Math.Abs(aspectRatios[best] - aspect)) best = i;
                reso = Resolutions[best];
                var bucketAspect = (double)reso.W / reso.H;
                var scale = aspect > bucketAspect ? (double)reso.H / imageHeight : (double)reso.W / imageWidth;
                resized = (RoundHalfUp(imageWidth * scale), RoundHalfUp(imageHeight * scale));
            }
        }
        else
        {
            long maxArea = (long)MaxReso.Width * MaxReso.Height;
            if ((long)imageWidth * imageHeight > maxArea)
            {
                var width = Math.Sqrt(maxArea * aspect);
                var height = maxArea / width;
                var widthRounded = RoundToSteps(width);
                var heightForWidth = RoundToSteps(widthRounded / aspect);
                var aspectWidthFirst = (double)widthRounded / heightForWidth;
                var heightRounded = RoundToSteps(height);
                var widthForHeight = RoundToSteps(heightRounded * aspect);
                var aspectHeightFirst = (double)widthForHeight / heightRounded;
                resized = Math.Abs(aspectWidthFirst - aspect) < Math.Abs(aspectHeightFirst - aspect)
                    ? (widthRounded, RoundHalfUp(widthRounded / aspect))
                    : (RoundHalfUp(heightRounded * aspect), heightRounded);
            }
            else resized = (imageWidth, imageHeight);
            reso = (resized.W - resized.W % Step, resized.H - resized.H % Step);
        }
        return new BucketAssignment(reso, resized, Math.Abs((double)reso.W / reso.H - aspect));
    }

    /// <summary>The centre crop (or the given offset with random_crop) taken from the resized image to fill the bucket.</summary>
    public static (int X, int Y, int Width, int Height) CenterCrop(BucketAssignment assignment) =>
        ((assignment.Resized.Width - assignment.Bucket.Width) / 2, (assignment.Resized.Height - assignment.Bucket.Height) / 2,
         assignment.Bucket.Width, assignment.Bucket.Height);

    int RoundToSteps(double x)
    {
        var v = (int)(x + 0.5);
        return v - v % Step;
    }

    static int RoundHalfUp(double x) => (int)(x + 0.5);
}
