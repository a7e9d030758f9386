using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using NotebookTrainer.Display;
using NotebookTrainer.SafeTensors;
using TorchSharp;
using static TorchSharp.torch;

namespace NotebookTrainer.Analysis;

/// <summary>
/// What is inside a kohya / LyCORIS LoRA file, without loading a model: ss_* metadata (training parameters,
/// dataset folders, tag frequency), modules per block, rank/alpha per module and the norms of the weight changes.
/// </summary>
public sealed class LoraReport : IHtmlRenderable
{
    /// <summary>Training parameters shown in the summary table, in this order, when the file has them.</summary>
    public static readonly string[] TrainingKeys =
    [
        "ss_output_name", "ss_sd_model_name", "ss_base_model_version", "ss_network_module", "ss_network_dim", "ss_network_alpha",
        "ss_network_args", "ss_learning_rate", "ss_unet_lr", "ss_text_encoder_lr", "ss_lr_scheduler", "ss_lr_warmup_steps",
        "ss_optimizer", "ss_num_train_images", "ss_num_reg_images", "ss_num_batches_per_epoch", "ss_num_epochs", "ss_epoch",
        "ss_steps", "ss_max_train_steps", "ss_mixed_precision", "ss_clip_skip", "ss_seed", "ss_noise_offset", "ss_min_snr_gamma",
        "ss_loss_type", "ss_zero_terminal_snr", "ss_masked_loss",
        "ss_training_started_at", "ss_training_finished_at",
    ];

    LoraReport(string path, long fileSize, IReadOnlyDictionary<string, string> metadata, IReadOnlyList<LoraModuleInfo> modules, int topTags)
    {
        Path = path;
        FileSize = fileSize;
        Metadata = metadata;
        Modules = modules;
        Blocks = modules.GroupBy(m => m.Block)
            .OrderBy(g => LoraBlocks.Order(g.Key))
            .Select(g => new LoraBlockSummary(g.Key, g.Count(), Math.Sqrt(g.Sum(m => m.DeltaNorm * m.DeltaNorm)), g.Average(m => m.DeltaNorm),
                string.Join("/", g.Select(m => m.Rank).Distinct().Order()), string.Join("/", g.Select(m => m.Alpha).Distinct().Order().Select(a => a.ToString("0.###", CultureInfo.InvariantCulture)))))
            .ToList();
        TagFrequency = ParseTagFrequency(metadata).OrderByDescending(kv => kv.Value).ThenBy(kv => kv.Key, StringComparer.Ordinal).Take(topTags).ToList();
        DatasetDirs = ParseDatasetDirs(metadata);
    }

    public string Path { get; }
    public long FileSize { get; }
    public IReadOnlyDictionary<string, string> Metadata { get; }
    public IReadOnlyList<LoraModuleInfo> Modules { get; }
    public IReadOnlyList<LoraBlockSummary> Blocks { get; }
    /// <summary>Most frequent training tags over all dataset folders (ss_tag_frequency).</summary>
    public IReadOnlyList<KeyValuePair<string, int>> TagFrequency { get; }
    /// <summary>ss_dataset_dirs: folder → (repeats, images).</summary>
    public IReadOnlyList<(string Dir, int Repeats, int Images)> DatasetDirs { get; }

    public IEnumerable<KeyValuePair<string, string>> TrainingParameters =>
        TrainingKeys.Where(Metadata.ContainsKey).Select(k => new KeyValuePair<string, string>(k, Metadata[k]));

    public static LoraReport Load(string path, int topTags = 20)
    {
        using var file = SafeTensorsFile.Open(path);
        var modules = new List<LoraModuleInfo>();
        foreach (var group in file.Names.GroupBy(ModuleName, StringComparer.Ordinal).OrderBy(g => g.Key, StringComparer.Ordinal))
            modules.Add(Inspect(file, group.Key, group.ToHashSet(StringComparer.Ordinal)));
        if (modules.Count == 0)
            throw new InvalidDataException($"{path} holds no tensors; it is not a LoRA file.");
        return new LoraReport(path, new FileInfo(path).Length, file.Metadata.ToDictionary(), modules, topTags);
    }

    static string ModuleName(string key) => key.IndexOf('.') is var dot and > 0 ? key[..dot] : key;

    static LoraModuleInfo Inspect(SafeTensorsFile file, string name, HashSet<string> keys)
    {
        using var scope = NewDisposeScope();
        Tensor Load(string suffix) => file.Load(name + suffix, ScalarType.Float32);
        double? alpha = keys.Contains(name + ".alpha") ? Load(".alpha").item<float>() : null;
        if (keys.Contains(name + ".lora_down.weight") && keys.Contains(name + ".lora_up.weight"))
        {
            var down = Load(".lora_down.weight");
            var up = Load(".lora_up.weight");
            var rank = down.shape[0];
            var delta = up.reshape(up.shape[0], rank).matmul(down.reshape(rank, -1)) * ((alpha ?? rank) / rank);
            var kind = down.dim() == 4 && down.shape[2] > 1 ? "LoCon" : "LoRA";
            return new LoraModuleInfo(name, LoraBlocks.Of(name), kind, rank, alpha ?? rank, delta.norm().item<float>());
        }
        if (keys.Contains(name + ".hada_w1_a"))
        {
            var w1 = Load(".hada_w1_a").matmul(Load(".hada_w1_b").flatten(1));
            var w2 = Load(".hada_w2_a").matmul(Load(".hada_w2_b").flatten(1));
            var rank = file.Entries[name + ".hada_w1_b"].Shape[0];
            var delta = w1 * w2 * ((alpha ?? rank) / rank);
            return new LoraModuleInfo(name, LoraBlocks.Of(name), "LoHa", rank, alpha ?? rank, delta.norm().item<float>());
        }
        throw new InvalidDataException($"{file.Path}: module '{name}' has keys [{string.Join(", ", keys.Order())}]; expected lora_down/lora_up (LoRA, LoCon) or hada_w1_a/… (LoHa).");
    }

    static Dictionary<string, int> ParseTagFrequency(IReadOnlyDictionary<string, string> metadata)
    {
        var totals = new Dictionary<string, int>(StringComparer.Ordinal);
        if (!metadata.TryGetValue("ss_tag_frequency", out var json)) return totals;
        if (TryParseObject(json) is not { } dirs) return totals;
        foreach (var (_, tags) in dirs)
            if (tags is JsonObject tagCounts)
                foreach (var (tag, count) in tagCounts)
                    if (count is JsonValue v && v.TryGetValue<int>(out var n))
                        totals[tag] = totals.GetValueOrDefault(tag) + n;
        return totals;
    }

    static List<(string, int, int)> ParseDatasetDirs(IReadOnlyDictionary<string, string> metadata)
    {
        var dirs = new List<(string, int, int)>();
        if (!metadata.TryGetValue("ss_dataset_dirs", out var json) || TryParseObject(json) is not { } obj) return dirs;
        foreach (var (dir, info) in obj)
            dirs.Add((dir, Int(info?["n_repeats"]), Int(info?["img_count"])));
        return dirs;
    }

    static int Int(JsonNode? node) => node is JsonValue v && v.TryGetValue<int>(out var n) ? n : 0;

    static JsonObject? TryParseObject(string json)
    {
        try { return JsonNode.Parse(json) as JsonObject; }
        catch (JsonException) { return null; }
    }

    public string ToJson()
    {
        var root = new JsonObject
        {
            ["path"] = Path,
            ["file_size"] = FileSize,
            ["module_count"] = Modules.Count,
            ["training"] = new JsonObject(TrainingParameters.Select(kv => new KeyValuePair<string, JsonNode?>(kv.Key, kv.Value))),
            ["dataset_dirs"] = new JsonArray(DatasetDirs.Select(d => (JsonNode)new JsonObject { ["dir"] = d.Dir, ["n_repeats"] = d.Repeats, ["img_count"] = d.Images }).ToArray()),
            ["tag_frequency_top"] = new JsonArray(TagFrequency.Select(t => (JsonNode)new JsonObject { ["tag"] = t.Key, ["count"] = t.Value }).ToArray()),
            ["blocks"] = new JsonArray(Blocks.Select(b => (JsonNode)new JsonObject { ["block"] = b.Block, ["modules"] = b.Modules, ["norm"] = b.Norm, ["mean_module_norm"] = b.MeanModuleNorm, ["ranks"] = b.Ranks, ["alphas"] = b.Alphas }).ToArray()),
            ["modules"] = new JsonArray(Modules.Select(m => (JsonNode)new JsonObject { ["name"] = m.Name, ["block"] = m.Block, ["kind"] = m.Kind, ["rank"] = m.Rank, ["alpha"] = m.Alpha, ["delta_norm"] = m.DeltaNorm }).ToArray()),
            ["metadata"] = new JsonObject(Metadata.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => new KeyValuePair<string, JsonNode?>(kv.Key, kv.Value))),
        };
        return root.ToJsonString(new JsonSerializerOptions { WriteIndented = true });
    }

    public string ToText()
    {
        var sb = new StringBuilder();
        sb.AppendLine($"{Path}: {Modules.Count} modules, {FileSize:N0} bytes");
        foreach (var (key, value) in TrainingParameters) sb.AppendLine($"  {key} = {value}");
        foreach (var d in DatasetDirs) sb.AppendLine($"  dataset {d.Dir}: {d.Images} images × {d.Repeats} repeats");
        if (TagFrequency.Count > 0) sb.AppendLine("  top tags: " + string.Join(", ", TagFrequency.Select(t => $"{t.Key} ({t.Value})")));
        sb.AppendLine($"  {"block",-8} {"modules",7} {"ranks",8} {"alphas",8} {"‖ΔW‖",10} {"mean",10}");
        foreach (var b in Blocks)
            sb.AppendLine(FormattableString.Invariant($"  {b.Block,-8} {b.Modules,7} {b.Ranks,8} {b.Alphas,8} {b.Norm,10:0.0000} {b.MeanModuleNorm,10:0.0000}"));
        return sb.ToString();
    }

    public string ToHtml()
    {
        var sb = new StringBuilder();
        sb.Append("<div class=\"nt-lora-report\"><h3>LoRA: ").Append(Html.Escape(System.IO.Path.GetFileName(Path))).Append("</h3>");
        sb.Append("<p>").Append(Modules.Count).Append(" modules, ").Append(FileSize.ToString("N0", CultureInfo.InvariantCulture)).Append(" bytes</p>");
        sb.Append(Html.Table(["parameter", "value"], TrainingParameters.Select(kv => new object?[] { kv.Key, kv.Value })));
        if (DatasetDirs.Count > 0)
            sb.Append("<h4>Dataset folders</h4>").Append(Html.Table(["folder", "images", "repeats"], DatasetDirs.Select(d => new object?[] { d.Dir, d.Images, d.Repeats })));
        if (TagFrequency.Count > 0)
            sb.Append("<h4>Top tags</h4>").Append(Html.Table(["tag", "count"], TagFrequency.Select(t => new object?[] { t.Key, t.Value })));
        sb.Append("<h4>Blocks</h4>").Append(Html.Table(["block", "modules", "ranks", "alphas", "‖ΔW‖", "mean module ‖ΔW‖"],
            Blocks.Select(b => new object?[] { b.Block, b.Modules, b.Ranks, b.Alphas, b.Norm.ToString("0.0000", CultureInfo.InvariantCulture), b.MeanModuleNorm.ToString("0.0000", CultureInfo.InvariantCulture) })));
        sb.Append("<details><summary>Modules</summary>").Append(Html.Table(["module", "block", "kind", "rank", "alpha", "‖ΔW‖"],
            Modules.Select(m => new object?[] { m.Name, m.Block, m.Kind, m.Rank, m.Alpha, m.DeltaNorm.ToString("0.00000", CultureInfo.InvariantCulture) }))).Append("</details>");
        sb.Append("</div>");
        return sb.ToString();
    }
}
