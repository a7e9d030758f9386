using System.Globalization;
using System.Text;

namespace NotebookTrainer.Datasets.Config;

/// <summary>
/// Writes a resolved config back as TOML kohya accepts: one [[datasets]] per dataset with its non-default keys,
/// one [[datasets.subsets]] per subset with its non-default keys, scalars as kohya spells them (resolution = 512,
/// not [512]). Paths use TOML literal strings so Windows backslashes survive.
/// </summary>
public static class DatasetConfigWriter
{
    public static void Save(DatasetConfig config, string path) => IO.AtomicFile.WriteAllText(path, ToToml(config));

    public static string ToToml(DatasetConfig config)
    {
        var sb = new StringBuilder();
        var defaultsDataset = new DatasetOptions();
        var defaultsSubset = new SubsetOptions();
        foreach (var d in config.Datasets)
        {
            if (sb.Length > 0) sb.Append('\n');
            sb.Append("[[datasets]]\n");
            Line(sb, "resolution", d.Resolution.Width == d.Resolution.Height ? Int(d.Resolution.Width) : $"[{Int(d.Resolution.Width)}, {Int(d.Resolution.Height)}]");
            if (d.BatchSize != defaultsDataset.BatchSize) Line(sb, "batch_size", Int(d.BatchSize));
            if (d.EnableBucket != defaultsDataset.EnableBucket) Line(sb, "enable_bucket", Bool(d.EnableBucket));
            if (d.MinBucketReso != defaultsDataset.MinBucketReso) Line(sb, "min_bucket_reso", Int(d.MinBucketReso));
            if (d.MaxBucketReso != defaultsDataset.MaxBucketReso) Line(sb, "max_bucket_reso", Int(d.MaxBucketReso));
            if (d.BucketResoSteps != defaultsDataset.BucketResoSteps) Line(sb, "bucket_reso_steps", Int(d.BucketResoSteps));
            if (d.BucketNoUpscale != defaultsDataset.BucketNoUpscale) Line(sb, "bucket_no_upscale", Bool(d.BucketNoUpscale));
            if (d.ValidationSeed is { } seed) Line(sb, "validation_seed", Int(seed));
            if (d.ValidationSplit != defaultsDataset.ValidationSplit) Line(sb, "validation_split", Number(d.ValidationSplit));
            if (d.NetworkMultiplier != defaultsDataset.NetworkMultiplier) Line(sb, "network_multiplier", Number(d.NetworkMultiplier));
            if (d.ResizeInterpolation is { } ri) Line(sb, "resize_interpolation", Str(ri));
            if (d.SkipImageResolution is { } skip) Line(sb, "skip_image_resolution", skip.Width == skip.Height ? Int(skip.Width) : $"[{Int(skip.Width)}, {Int(skip.Height)}]");

            foreach (var s in d.Subsets)
            {
                sb.Append("\n  [[datasets.subsets]]\n");
                void Opt<T>(string key, T value, T fallback, Func<T, string> format)
                {
                    if (!EqualityComparer<T>.Default.Equals(value, fallback)) Line(sb, key, format(value), "  ");
                }
                if (s.ImageDir is { } dir) Line(sb, "image_dir", Str(dir), "  ");
                if (s.MetadataFile is { } meta) Line(sb, "metadata_file", Str(meta), "  ");
                Opt("num_repeats", s.NumRepeats, defaultsSubset.NumRepeats, Int);
                if (!s.IsFineTune)
                {
                    Opt("is_reg", s.IsReg, false, Bool);
                    Opt("class_tokens", s.ClassTokens, null, v => Str(v!));
                    Opt("caption_extension", s.CaptionExtension, defaultsSubset.CaptionExtension, Str);
                    Opt("cache_info", s.CacheInfo, false, Bool);
                }
                Opt("alpha_mask", s.AlphaMask, false, Bool);
                Opt("shuffle_caption", s.ShuffleCaption, false, Bool);
                Opt("keep_tokens", s.KeepTokens, 0, Int);
                Opt("keep_tokens_separator", s.KeepTokensSeparator, "", Str);
                Opt("secondary_separator", s.SecondarySeparator, "", Str);
                Opt("caption_separator", s.CaptionSeparator, ",", Str);
                Opt("caption_prefix", s.CaptionPrefix, "", Str);
                Opt("caption_suffix", s.CaptionSuffix, "", Str);
                Opt("enable_wildcard", s.EnableWildcard, false, Bool);
                Opt("color_aug", s.ColorAug, false, Bool);
                Opt("flip_aug", s.FlipAug, false, Bool);
                Opt("random_crop", s.RandomCrop, false, Bool);
                if (s.FaceCropAugRange is { } f) Line(sb, "face_crop_aug_range", $"[{Number(f.Low)}, {Number(f.High)}]", "  ");
                Opt("token_warmup_min", s.TokenWarmupMin, 1, Int);
                Opt("token_warmup_step", s.TokenWarmupStep, 0.0, Number);
                Opt("caption_dropout_every_n_epochs", s.CaptionDropoutEveryNEpochs, 0, Int);
                Opt("caption_dropout_rate", s.CaptionDropoutRate, 0.0, Number);
                Opt("caption_tag_dropout_rate", s.CaptionTagDropoutRate, 0.0, Number);
                if (s.ResizeInterpolation is { } sri && sri != d.ResizeInterpolation) Line(sb, "resize_interpolation", Str(sri), "  ");
                if (s.CustomAttributes is { Count: > 0 } attributes)
                    Line(sb, "custom_attributes", "{ " + string.Join(", ", attributes.Select(a => $"{Key(a.Key)} = {Value(a.Value)}")) + " }", "  ");
            }
        }
        return sb.ToString();
    }

    static void Line(StringBuilder sb, string key, string value, string indent = "") =>
        sb.Append(indent).Append(key).Append(" = ").Append(value).Append('\n');

    static string Int(int v) => v.ToString(CultureInfo.InvariantCulture);
    static string Bool(bool v) => v ? "true" : "false";
    static string Number(double v) => v == Math.Floor(v) && Math.Abs(v) < 1e15 ? v.ToString("0.0", CultureInfo.InvariantCulture) : v.ToString("R", CultureInfo.InvariantCulture);

    /// <summary>A literal string when possible (no escapes, backslashes kept), else a basic string with escapes.</summary>
    static string Str(string v)
    {
        if (!v.Contains('\'') && !v.Any(char.IsControl)) return $"'{v}'";
        var sb = new StringBuilder("\"");
        foreach (var c in v)
        {
            switch (c)
            {
                case '"': sb.Append("\\\""); break;
                case '\\': sb.Append("\\\\"); break;
                case '\n': sb.Append("\\n"); break;
                case '\t': sb.Append("\\t"); break;
                case '\r': sb.Append("\\r"); break;
                default:
                    if (char.IsControl(c)) sb.Append($"\\u{(int)c:X4}"); else sb.Append(c);
                    break;
            }
        }
        return sb.Append('"').ToString();
    }

    static string Key(string k) => Tomlyn.Syntax.BareKeySyntax.IsBareKey(k) ? k : Str(k);

    static string Value(object v) => v switch
    {
        bool b => Bool(b),
        long l => l.ToString(CultureInfo.InvariantCulture),
        double d => Number(d),
        string s => Str(s),
        IReadOnlyDictionary<string, object> table => "{ " + string.Join(", ", table.Select(a => $"{Key(a.Key)} = {Value(a.Value)}")) + " }",
        IEnumerable<object> list => "[" + string.Join(", ", list.Select(Value)) + "]",
        _ => Str(Convert.ToString(v, CultureInfo.InvariantCulture) ?? ""),
    };
}
