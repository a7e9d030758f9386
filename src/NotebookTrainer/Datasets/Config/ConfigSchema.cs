using NotebookTrainer.Configuration;

namespace NotebookTrainer.Datasets.Config;

public enum ConfigValueKind { Bool, Int, Number, String, NumberPair, Table, Resolution }

[Flags]
public enum ConfigLevel { None = 0, Subset = 1, Dataset = 2, General = 4, All = Subset | Dataset | General, DatasetOrGeneral = Dataset | General }

/// <summary>One key kohya's config_util schema accepts: its type and the levels where it may appear.</summary>
public sealed record ConfigKey(string Name, ConfigValueKind Kind, ConfigLevel Levels, bool DreamBoothOnly = false);

/// <summary>The keys of kohya's dataset config (library/config_util.py), per level.</summary>
public static class ConfigSchema
{
    public static readonly IReadOnlyList<ConfigKey> Keys =
    [
        // at subset, dataset and general level
        new("color_aug", ConfigValueKind.Bool, ConfigLevel.All),
        new("flip_aug", ConfigValueKind.Bool, ConfigLevel.All),
        new("random_crop", ConfigValueKind.Bool, ConfigLevel.All),
        new("shuffle_caption", ConfigValueKind.Bool, ConfigLevel.All),
        new("enable_wildcard", ConfigValueKind.Bool, ConfigLevel.All),
        new("face_crop_aug_range", ConfigValueKind.NumberPair, ConfigLevel.All),
        new("num_repeats", ConfigValueKind.Int, ConfigLevel.All),
        new("keep_tokens", ConfigValueKind.Int, ConfigLevel.All),
        new("token_warmup_min", ConfigValueKind.Int, ConfigLevel.All),
        new("token_warmup_step", ConfigValueKind.Number, ConfigLevel.All),
        new("keep_tokens_separator", ConfigValueKind.String, ConfigLevel.All),
        new("secondary_separator", ConfigValueKind.String, ConfigLevel.All),
        new("caption_separator", ConfigValueKind.String, ConfigLevel.All),
        new("caption_prefix", ConfigValueKind.String, ConfigLevel.All),
        new("caption_suffix", ConfigValueKind.String, ConfigLevel.All),
        new("resize_interpolation", ConfigValueKind.String, ConfigLevel.All),
        new("custom_attributes", ConfigValueKind.Table, ConfigLevel.All),
        new("caption_dropout_every_n_epochs", ConfigValueKind.Int, ConfigLevel.All),
        new("caption_dropout_rate", ConfigValueKind.Number, ConfigLevel.All),
        new("caption_tag_dropout_rate", ConfigValueKind.Number, ConfigLevel.All),
        // DreamBooth keys
        new("caption_extension", ConfigValueKind.String, ConfigLevel.All, DreamBoothOnly: true),
        new("class_tokens", ConfigValueKind.String, ConfigLevel.All, DreamBoothOnly: true),
        new("cache_info", ConfigValueKind.Bool, ConfigLevel.All, DreamBoothOnly: true),
        new("is_reg", ConfigValueKind.Bool, ConfigLevel.Subset, DreamBoothOnly: true),
        // subset only
        new("image_dir", ConfigValueKind.String, ConfigLevel.Subset),
        new("alpha_mask", ConfigValueKind.Bool, ConfigLevel.Subset),
        new("metadata_file", ConfigValueKind.String, ConfigLevel.Subset),
        // dataset and general only
        new("batch_size", ConfigValueKind.Int, ConfigLevel.DatasetOrGeneral),
        new("enable_bucket", ConfigValueKind.Bool, ConfigLevel.DatasetOrGeneral),
        new("min_bucket_reso", ConfigValueKind.Int, ConfigLevel.DatasetOrGeneral),
        new("max_bucket_reso", ConfigValueKind.Int, ConfigLevel.DatasetOrGeneral),
        new("bucket_reso_steps", ConfigValueKind.Int, ConfigLevel.DatasetOrGeneral),
        new("bucket_no_upscale", ConfigValueKind.Bool, ConfigLevel.DatasetOrGeneral),
        new("validation_seed", ConfigValueKind.Int, ConfigLevel.DatasetOrGeneral),
        new("validation_split", ConfigValueKind.Number, ConfigLevel.DatasetOrGeneral),
        new("network_multiplier", ConfigValueKind.Number, ConfigLevel.DatasetOrGeneral),
        new("resolution", ConfigValueKind.Resolution, ConfigLevel.DatasetOrGeneral),
        new("skip_image_resolution", ConfigValueKind.Resolution, ConfigLevel.DatasetOrGeneral),
    ];

    /// <summary>Training arguments kohya refuses in the file ("extra keys not allowed").</summary>
    public static readonly IReadOnlyList<string> CommandLineOnly = ["prior_loss_weight", "debug_dataset", "max_token_length"];

    static readonly Dictionary<string, ConfigKey> ByName = Keys.ToDictionary(k => k.Name);

    public static ConfigKey? Find(string name) => ByName.GetValueOrDefault(name);

    public static string Describe(ConfigValueKind kind) => kind switch
    {
        ConfigValueKind.Bool => "a boolean (true/false)",
        ConfigValueKind.Int => "an integer",
        ConfigValueKind.Number => "a number",
        ConfigValueKind.String => "a string",
        ConfigValueKind.NumberPair => "an array of two numbers, e.g. [0.3, 0.7]",
        ConfigValueKind.Table => "a table",
        ConfigValueKind.Resolution => "an integer (512) or [width, height] ([768, 512])",
        _ => kind.ToString(),
    };

    /// <summary>The closest key allowed at <paramref name="level"/>, if it is a plausible typo.</summary>
    public static string? DidYouMean(string name, ConfigLevel level) =>
        KeySuggestion.Closest(name.ToLowerInvariant(), Keys.Where(k => (k.Levels & level) != 0).Select(k => k.Name));
}
