using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace NotebookTrainer.Datasets;

/// <summary>
/// The dataset parts of kohya's LoRA metadata, computed from a plan: <c>ss_tag_frequency</c>,
/// <c>ss_dataset_dirs</c> and <c>ss_bucket_info</c>. Keys are the subset folder names (basename of image_dir),
/// as kohya writes them; reg subsets are included, as in kohya.
/// </summary>
public static class KohyaDatasetMetadata
{
    /// <summary>
    /// {folder: {tag: images with it}}: raw captions split on ",", stripped, lowercased, empty tags dropped; over all
    /// datasets, or one (the per-dataset copy in ss_datasets).
    /// </summary>
    public static SortedDictionary<string, SortedDictionary<string, int>> TagFrequency(DatasetPlan plan, int? datasetIndex = null)
    {
        var result = new SortedDictionary<string, SortedDictionary<string, int>>(StringComparer.Ordinal);
        foreach (var image in plan.Images.Where(i => i.IsUsable && (datasetIndex is null || i.DatasetIndex == datasetIndex)))
        {
            var folder = FolderName(image);
            if (!result.TryGetValue(folder, out var counts)) result[folder] = counts = new SortedDictionary<string, int>(StringComparer.Ordinal);
            foreach (var raw in image.Caption!.Split(','))
            {
                var tag = raw.Trim().ToLowerInvariant();
                if (tag.Length > 0) counts[tag] = counts.GetValueOrDefault(tag) + 1;
            }
        }
        return result;
    }

    /// <summary>{folder: {"n_repeats", "img_count"}} with the subset's configured repeats and its usable images.</summary>
    public static SortedDictionary<string, (int NRepeats, int ImgCount)> DatasetDirs(DatasetPlan plan)
    {
        var result = new SortedDictionary<string, (int, int)>(StringComparer.Ordinal);
        foreach (var group in plan.Images.Where(i => i.IsUsable).GroupBy(i => i.Subset))
            result[FolderName(group.First())] = (group.Key.NumRepeats, group.Count());
        return result;
    }

    /// <summary>ss_bucket_info of one dataset: {"buckets": {"0": {"resolution": [w, h], "count": n}, …}, "mean_img_ar_error": x}.</summary>
    public static string BucketInfoJson(DatasetPlan plan, int datasetIndex = 0) => BucketInfo(plan, datasetIndex).ToJsonString();

    public static JsonObject BucketInfo(DatasetPlan plan, int datasetIndex)
    {
        var buckets = new JsonObject();
        var index = 0;
        foreach (var bucket in plan.Buckets.Where(b => b.DatasetIndex == datasetIndex))
            buckets[(index++).ToString(CultureInfo.InvariantCulture)] = new JsonObject
            {
                ["resolution"] = new JsonArray(bucket.Resolution.Width, bucket.Resolution.Height),
                ["count"] = bucket.Count,
            };
        var meanError = plan.Images.Where(i => i.DatasetIndex == datasetIndex && i.IsUsable)
            .Select(i => i.Bucket!.Value.AspectError).DefaultIfEmpty(0).Average();
        return new JsonObject { ["buckets"] = buckets, ["mean_img_ar_error"] = meanError };
    }

    public static string TagFrequencyJson(DatasetPlan plan) => JsonSerializer.Serialize(TagFrequency(plan));

    public static string DatasetDirsJson(DatasetPlan plan) =>
        JsonSerializer.Serialize(DatasetDirs(plan).ToDictionary(d => d.Key, d => new { n_repeats = d.Value.NRepeats, img_count = d.Value.ImgCount }));

    static string FolderName(PlannedImage image) =>
        Path.GetFileName((image.Subset.ImageDir ?? Path.GetDirectoryName(image.Path) ?? "").TrimEnd('/', '\\'));
}
