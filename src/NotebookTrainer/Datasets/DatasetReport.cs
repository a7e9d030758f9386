using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using NotebookTrainer.Configuration;
using NotebookTrainer.Display;

namespace NotebookTrainer.Datasets;

/// <summary>
/// The result of <see cref="DatasetInspector.Inspect"/>: per image size, bucket, resized size, caption and problems;
/// per bucket counts; totals and step math; kohya-style log lines. <see cref="Plan"/> is null when the config itself
/// could not be loaded (then <see cref="Problems"/> says why). JSON schema: README "dataset inspect JSON".
/// </summary>
public sealed class DatasetReport : IHtmlRenderable
{
    public const string SchemaId = "ntrain.dataset-inspect/1";

    public string Source { get; }
    /// <summary>"config" (a .toml/.json file), "folders" (kohya legacy N_name subfolders) or "folder" (images directly in it).</summary>
    public string Kind { get; }
    public DatasetPlan? Plan { get; }
    /// <summary>Every problem: config, subset and per-image ones, errors first.</summary>
    public IReadOnlyList<DatasetProblem> Problems { get; }

    public DatasetReport(string source, string kind, DatasetPlan? plan, IReadOnlyList<DatasetProblem> loadProblems)
    {
        Source = source;
        Kind = kind;
        Plan = plan;
        Problems = loadProblems
            .Concat(plan?.Problems ?? [])
            .Concat(plan?.Images.SelectMany(i => i.Problems) ?? [])
            .OrderByDescending(p => p.IsError)
            .ToList();
    }

    public int ErrorCount => Problems.Count(p => p.IsError);
    public int WarningCount => Problems.Count - ErrorCount;
    public bool CanTrain => Plan != null && Plan.NumTrainImages > 0 && Plan.Config.Datasets.Count > 0;

    public IEnumerable<PlannedImage> UsableImages => Plan?.Images.Where(i => i.IsUsable) ?? [];

    /// <summary>kohya's "mean ar error (without repeats)": mean |bucket aspect − image aspect| over usable images.</summary>
    public double MeanAspectError => UsableImages.Select(i => i.Bucket!.Value.AspectError).DefaultIfEmpty(0).Average();

    /// <summary>The lines kohya prints while making buckets.</summary>
    public IReadOnlyList<string> LogLines
    {
        get
        {
            if (Plan == null) return [];
            var lines = new List<string>();
            foreach (var dataset in Plan.Config.Datasets)
            {
                var images = Plan.Images.Where(i => i.DatasetIndex == dataset.Index && i.IsUsable).ToList();
                lines.Add($"[Dataset {dataset.Index}]");
                lines.Add($"number of images (including repeats) / 各bucketの画像枚数（繰り返し回数を含む）");
                var index = 0;
                foreach (var bucket in Plan.Buckets.Where(b => b.DatasetIndex == dataset.Index))
                    lines.Add($"bucket {index++}: resolution ({bucket.Resolution.Width}, {bucket.Resolution.Height}), count: {bucket.Count}");
                var error = images.Select(i => i.Bucket!.Value.AspectError).DefaultIfEmpty(0).Average();
                lines.Add(string.Create(CultureInfo.InvariantCulture, $"mean ar error (without repeats): {error}"));
            }
            lines.Add($"num train images * repeats / 学習画像の数×繰り返し回数: {Plan.NumTrainImages}");
            lines.Add($"num reg images / 正則化画像の数: {Plan.NumRegImages}");
            lines.Add($"num batches per epoch / 1epochのバッチ数: {Plan.BatchesPerEpoch}");
            return lines;
        }
    }

    /// <summary>Bucket histogram (one bar per bucket resolution, counting repeats).</summary>
    public Chart BucketHistogram()
    {
        var buckets = Plan?.Buckets ?? [];
        var multi = Plan?.Config.Datasets.Count > 1;
        var labels = buckets.Select(b => (multi ? $"d{b.DatasetIndex} " : "") + $"{b.Resolution.Width}x{b.Resolution.Height}").ToArray();
        var counts = buckets.Select(b => (double)b.Count).ToArray();
        return new Chart([new BarTrace("images × repeats", labels, counts)], XAxisTitle: "bucket (width x height)", YAxisTitle: "images × repeats");
    }

    public string ToHtml()
    {
        var sb = new StringBuilder();
        sb.Append("<div class=\"nt-dataset-report\">");
        sb.Append("<h3>Dataset: ").Append(Html.Escape(Source)).Append("</h3>");
        var totals = Totals();
        sb.Append(Html.Table(["", "value"], totals.Select(t => new object?[] { t.Name, t.Value })));
        if (Plan != null && Plan.Buckets.Count > 0)
        {
            sb.Append("<h4>Buckets</h4>");
            sb.Append(Html.Table(["dataset", "resolution", "images", "images × repeats", "batches"],
                Plan.Buckets.Select(b => new object?[] { b.DatasetIndex, $"{b.Resolution.Width}x{b.Resolution.Height}", b.Images, b.Count, b.Batches })));
        }
        if (Problems.Count > 0)
        {
            sb.Append("<h4>Problems</h4>");
            sb.Append(ProblemsTable().ToHtml());
        }
        if (Plan != null)
        {
            const int maxRows = 500;
            sb.Append("<h4>Images</h4>");
            if (Plan.Images.Count > maxRows) sb.Append("<p>first ").Append(maxRows).Append(" of ").Append(Plan.Images.Count).Append("</p>");
            sb.Append(Html.Table(["image", "size", "bucket", "resized", "repeats", "caption", "problems"],
                Plan.Images.Take(maxRows).Select(i => new object?[]
                {
                    Path.GetFileName(i.Path), $"{i.Width}x{i.Height}",
                    i.Bucket is { } b ? $"{b.Bucket.Width}x{b.Bucket.Height}" : "—",
                    i.Bucket is { } r ? $"{r.Resized.Width}x{r.Resized.Height}" : "—",
                    i.Repeats, i.Caption ?? "—", string.Join("; ", i.Problems.Select(p => p.Message)),
                })));
        }
        sb.Append("</div>");
        return sb.ToString();
    }

    /// <summary>The problems as a table (severity, file, line, key, message).</summary>
    public ProblemList ProblemsTable() => new(Problems);

    List<(string Name, object Value)> Totals()
    {
        var list = new List<(string, object)> { ("errors", ErrorCount), ("warnings", WarningCount) };
        if (Plan == null) return list;
        list.Add(("train images", UsableImages.Count(i => !i.IsReg)));
        list.Add(("reg images", UsableImages.Count(i => i.IsReg)));
        list.Add(("train images × repeats", Plan.NumTrainImages));
        list.Add(("reg images × repeats", Plan.NumRegImages));
        list.Add(("batches (steps) per epoch", Plan.BatchesPerEpoch));
        list.Add(("mean aspect error", MeanAspectError.ToString("0.0000", CultureInfo.InvariantCulture)));
        return list;
    }

    static readonly JsonSerializerOptions JsonOptions = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    public string ToJson() => JsonSerializer.Serialize(ToJsonModel(), JsonOptions);

    object ToJsonModel()
    {
        static int[] Pair((int Width, int Height) p) => [p.Width, p.Height];
        static object Problem(DatasetProblem p) => new { Severity = p.IsError ? "error" : "warning", p.File, p.Line, p.Key, p.Message };
        return new
        {
            Schema = SchemaId,
            Source,
            Kind,
            CanTrain,
            Totals = new
            {
                Errors = ErrorCount,
                Warnings = WarningCount,
                TrainImages = UsableImages.Count(i => !i.IsReg),
                RegImages = UsableImages.Count(i => i.IsReg),
                TrainImagesWithRepeats = Plan?.NumTrainImages ?? 0,
                RegImagesWithRepeats = Plan?.NumRegImages ?? 0,
                BatchesPerEpoch = Plan?.BatchesPerEpoch ?? 0,
                StepsPerEpoch = Plan?.BatchesPerEpoch ?? 0,
                MeanAspectError = Math.Round(MeanAspectError, 6),
            },
            Datasets = (Plan?.Config.Datasets ?? []).Select(d => new
            {
                d.Index,
                Resolution = Pair(d.Resolution),
                d.BatchSize,
                d.EnableBucket,
                d.BucketNoUpscale,
                d.MinBucketReso,
                d.MaxBucketReso,
                d.BucketResoSteps,
                Type = d.IsFineTune ? "fine_tune" : "dreambooth",
                Subsets = d.Subsets.Select(s => new
                {
                    s.KeyPath,
                    s.ImageDir,
                    s.MetadataFile,
                    s.NumRepeats,
                    s.IsReg,
                    s.ClassTokens,
                    s.CaptionExtension,
                    Images = Plan!.Images.Count(i => i.Subset == s),
                    UsableImages = Plan.Images.Count(i => i.Subset == s && i.IsUsable),
                }),
            }),
            Buckets = (Plan?.Buckets ?? []).Select(b => new { Dataset = b.DatasetIndex, Resolution = Pair(b.Resolution), b.Count, b.Images, b.Batches }),
            Images = (Plan?.Images ?? []).Select(i => new
            {
                i.Path,
                i.Width,
                i.Height,
                Format = i.Format.ToString().ToLowerInvariant(),
                Dataset = i.DatasetIndex,
                Subset = i.Subset.KeyPath,
                i.IsReg,
                i.Repeats,
                Bucket = i.Bucket is { } b ? Pair(b.Bucket) : null,
                Resized = i.Bucket is { } r ? Pair(r.Resized) : null,
                AspectError = i.Bucket is { } e ? Math.Round(e.AspectError, 6) : (double?)null,
                i.Caption,
                i.LatentsNpz,
                Usable = i.IsUsable,
                Problems = i.Problems.Select(Problem),
            }),
            Problems = Problems.Select(Problem),
            Log = LogLines,
        };
    }
}
