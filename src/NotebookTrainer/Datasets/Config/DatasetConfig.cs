using NotebookTrainer.Configuration;

namespace NotebookTrainer.Datasets.Config;

/// <summary>
/// One subset with every value resolved (subset → dataset → general → training arguments → kohya default).
/// Property names are kohya's keys in PascalCase. <see cref="KeyPath"/> and <see cref="Line"/> locate it in the file.
/// </summary>
public sealed record SubsetOptions
{
    public string? ImageDir { get; init; }
    public string? MetadataFile { get; init; }
    public bool IsReg { get; init; }
    public bool AlphaMask { get; init; }
    public int NumRepeats { get; init; } = 1;
    public string CaptionExtension { get; init; } = DatasetDefaults.CaptionExtension;
    public string? ClassTokens { get; init; }
    public bool CacheInfo { get; init; }
    public bool ShuffleCaption { get; init; }
    public int KeepTokens { get; init; }
    public string KeepTokensSeparator { get; init; } = "";
    public string SecondarySeparator { get; init; } = "";
    public string CaptionSeparator { get; init; } = ",";
    public string CaptionPrefix { get; init; } = "";
    public string CaptionSuffix { get; init; } = "";
    public bool EnableWildcard { get; init; }
    public bool ColorAug { get; init; }
    public bool FlipAug { get; init; }
    public bool RandomCrop { get; init; }
    public (double Low, double High)? FaceCropAugRange { get; init; }
    public int TokenWarmupMin { get; init; } = 1;
    public double TokenWarmupStep { get; init; }
    public int CaptionDropoutEveryNEpochs { get; init; }
    public double CaptionDropoutRate { get; init; }
    public double CaptionTagDropoutRate { get; init; }
    public string? ResizeInterpolation { get; init; }
    public IReadOnlyDictionary<string, object>? CustomAttributes { get; init; }

    public string KeyPath { get; init; } = "";
    public int? Line { get; init; }

    public bool IsFineTune => MetadataFile != null;
}

/// <summary>One <c>[[datasets]]</c> entry with dataset-level values resolved.</summary>
public sealed record DatasetOptions
{
    public int Index { get; init; }
    public bool IsFineTune { get; init; }
    public (int Width, int Height) Resolution { get; init; } = (DatasetDefaults.Resolution, DatasetDefaults.Resolution);
    public int BatchSize { get; init; } = 1;
    public bool EnableBucket { get; init; }
    public int MinBucketReso { get; init; } = DatasetDefaults.MinBucketReso;
    public int MaxBucketReso { get; init; } = DatasetDefaults.MaxBucketReso;
    public int BucketResoSteps { get; init; } = DatasetDefaults.BucketResoSteps;
    public bool BucketNoUpscale { get; init; }
    public int? ValidationSeed { get; init; }
    public double ValidationSplit { get; init; }
    public double NetworkMultiplier { get; init; } = 1.0;
    public string? ResizeInterpolation { get; init; }
    /// <summary>Images whose area is at most this size's area are skipped (for multi-resolution datasets).</summary>
    public (int Width, int Height)? SkipImageResolution { get; init; }
    public IReadOnlyList<SubsetOptions> Subsets { get; init; } = [];
}

/// <summary>
/// Training arguments that sit below the file in kohya's fallback chain (the train_network.py command line).
/// Null means "not given".
/// </summary>
public sealed record DatasetArguments
{
    public int? Resolution { get; init; }
    public int? BatchSize { get; init; }
    public bool? EnableBucket { get; init; }
    public bool? BucketNoUpscale { get; init; }
    public int? MinBucketReso { get; init; }
    public int? MaxBucketReso { get; init; }
    public string? CaptionExtension { get; init; }
    public bool? ShuffleCaption { get; init; }
    public int? KeepTokens { get; init; }
    public int? BucketResoSteps { get; init; }
    public bool? FlipAug { get; init; }
    public bool? AlphaMask { get; init; }
    public bool? ColorAug { get; init; }
    public bool? RandomCrop { get; init; }
    public double? CaptionDropoutRate { get; init; }
    public int? CaptionDropoutEveryNEpochs { get; init; }
    public double? CaptionTagDropoutRate { get; init; }
    public string? KeepTokensSeparator { get; init; }
    public string? SecondarySeparator { get; init; }
    public string? CaptionSeparator { get; init; }
    public string? CaptionPrefix { get; init; }
    public string? CaptionSuffix { get; init; }
    public bool? EnableWildcard { get; init; }
    public int? TokenWarmupMin { get; init; }
    public double? TokenWarmupStep { get; init; }
    public double? ValidationSplit { get; init; }
    public int? ValidationSeed { get; init; }

    internal ConfigTable ToTable()
    {
        var table = new ConfigTable(0, []);
        void Add(string key, object? value) { if (value != null) table.Entries.Add(new ConfigEntry(key, 0, new ConfigScalar(0, value))); }
        Add("resolution", (long?)Resolution);
        Add("batch_size", (long?)BatchSize);
        Add("enable_bucket", EnableBucket);
        Add("bucket_no_upscale", BucketNoUpscale);
        Add("min_bucket_reso", (long?)MinBucketReso);
        Add("max_bucket_reso", (long?)MaxBucketReso);
        Add("caption_extension", CaptionExtension);
        Add("shuffle_caption", ShuffleCaption);
        Add("keep_tokens", (long?)KeepTokens);
        Add("bucket_reso_steps", (long?)BucketResoSteps);
        Add("flip_aug", FlipAug);
        Add("alpha_mask", AlphaMask);
        Add("color_aug", ColorAug);
        Add("random_crop", RandomCrop);
        Add("caption_dropout_rate", CaptionDropoutRate);
        Add("caption_dropout_every_n_epochs", (long?)CaptionDropoutEveryNEpochs);
        Add("caption_tag_dropout_rate", CaptionTagDropoutRate);
        Add("keep_tokens_separator", KeepTokensSeparator);
        Add("secondary_separator", SecondarySeparator);
        Add("caption_separator", CaptionSeparator);
        Add("caption_prefix", CaptionPrefix);
        Add("caption_suffix", CaptionSuffix);
        Add("enable_wildcard", EnableWildcard);
        Add("token_warmup_min", (long?)TokenWarmupMin);
        Add("token_warmup_step", TokenWarmupStep);
        Add("validation_split", ValidationSplit);
        Add("validation_seed", (long?)ValidationSeed);
        return table;
    }
}

/// <summary>A loaded, validated dataset config. Warnings are kohya's skip/rounding messages; errors throw <see cref="ConfigException"/>.</summary>
public sealed record DatasetConfig(string SourceFile, IReadOnlyList<DatasetOptions> Datasets, IReadOnlyList<DatasetProblem> Warnings)
{
    public static DatasetConfig Load(string path, DatasetArguments? arguments = null) => DatasetConfigLoader.Load(path, arguments);

    public static DatasetConfig Parse(string text, string file, DatasetArguments? arguments = null) =>
        DatasetConfigLoader.Parse(text, file, arguments);

    /// <summary>kohya's legacy layout without a config file: <c>train_data_dir/10_sks dog/</c>, optionally reg_data_dir.</summary>
    public static DatasetConfig FromFolders(string trainDataDir, string? regDataDir = null, DatasetArguments? arguments = null) =>
        LegacyFolders.ToConfig(trainDataDir, regDataDir, arguments);

    /// <summary>
    /// The first dataset of a template pointed at <paramref name="imageDir"/>, plus a regularisation subset (one repeat,
    /// class <paramref name="regularizationClass"/>) when <paramref name="regularizationDir"/> is given, with the
    /// dataset-level values <paramref name="change"/> sets, and shuffle_caption when <paramref name="shuffleCaption"/> is
    /// given: what notebook 04 writes from a template.
    /// </summary>
    public DatasetConfig ForImages(string imageDir, string? regularizationDir = null, Func<DatasetOptions, DatasetOptions>? change = null,
        bool? shuffleCaption = null, string regularizationClass = "shape")
    {
        var dataset = Datasets.Count > 0 && Datasets[0].Subsets.Count > 0 ? Datasets[0]
            : throw new InvalidDataException($"{SourceFile}: the template has no [[datasets.subsets]] entry to point at {imageDir}; add one.");
        var subject = dataset.Subsets[0] with { ImageDir = Path.GetFullPath(imageDir), ShuffleCaption = shuffleCaption ?? dataset.Subsets[0].ShuffleCaption };
        IReadOnlyList<SubsetOptions> subsets = regularizationDir is null ? [subject]
            : [subject, subject with { ImageDir = Path.GetFullPath(regularizationDir), IsReg = true, NumRepeats = 1, ClassTokens = regularizationClass }];
        return this with { Datasets = [(change ?? (d => d))(dataset with { Subsets = subsets })] };
    }

    public void Save(string path) => DatasetConfigWriter.Save(this, path);

    public string ToToml() => DatasetConfigWriter.ToToml(this);
}
