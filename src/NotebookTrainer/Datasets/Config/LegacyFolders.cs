using NotebookTrainer.Configuration;

namespace NotebookTrainer.Datasets.Config;

/// <summary>
/// kohya's configuration without a file: every immediate subfolder of train_data_dir (and reg_data_dir, as
/// regularisation) named <c>&lt;repeats&gt;_&lt;class tokens&gt;</c> becomes a subset.
/// </summary>
public static class LegacyFolders
{
    /// <summary><c>10_sks dog</c> → (10, "sks dog"); <c>5_my_char</c> → (5, "my_char"); <c>3</c> → (3, ""); not an int → null.</summary>
    public static (int Repeats, string ClassTokens)? ParseFolderName(string name)
    {
        var parts = name.Split('_');
        if (!int.TryParse(parts[0], System.Globalization.NumberStyles.AllowLeadingSign, System.Globalization.CultureInfo.InvariantCulture, out var repeats)) return null;
        return (repeats, string.Join('_', parts.Skip(1)));
    }

    public static DatasetConfig ToConfig(string trainDataDir, string? regDataDir, DatasetArguments? arguments)
    {
        arguments ??= new DatasetArguments();
        if (!Directory.Exists(trainDataDir))
            throw new ConfigException([DatasetProblem.Error(trainDataDir, "train_data_dir not found; check the path.")]);
        var warnings = new List<DatasetProblem>();
        var subsets = new List<SubsetOptions>();
        AddSubsets(trainDataDir, isReg: false);
        if (regDataDir != null)
        {
            if (Directory.Exists(regDataDir)) AddSubsets(regDataDir, isReg: true);
            else warnings.Add(DatasetProblem.Warning(regDataDir, "reg_data_dir not found; training continues without regularisation images."));
        }

        var resolution = arguments.Resolution ?? DatasetDefaults.Resolution;
        var dataset = new DatasetOptions
        {
            Index = 0,
            Resolution = (resolution, resolution),
            BatchSize = arguments.BatchSize ?? 1,
            EnableBucket = arguments.EnableBucket ?? false,
            BucketNoUpscale = arguments.BucketNoUpscale ?? false,
            MinBucketReso = arguments.MinBucketReso ?? DatasetDefaults.MinBucketReso,
            MaxBucketReso = arguments.MaxBucketReso ?? DatasetDefaults.MaxBucketReso,
            BucketResoSteps = arguments.BucketResoSteps ?? DatasetDefaults.BucketResoSteps,
            ValidationSplit = arguments.ValidationSplit ?? 0,
            ValidationSeed = arguments.ValidationSeed,
            Subsets = subsets,
        };
        return new DatasetConfig(trainDataDir, [dataset], warnings);

        void AddSubsets(string root, bool isReg)
        {
            foreach (var dir in Directory.GetDirectories(root).Order(StringComparer.Ordinal))
            {
                var name = Path.GetFileName(dir);
                if (ParseFolderName(name) is not { } parsed)
                {
                    warnings.Add(DatasetProblem.Warning(dir, $"folder '{name}' is ignored: its name must start with the repeat count and '_', e.g. '10_{name}'."));
                    continue;
                }
                if (parsed.Repeats < 1)
                {
                    warnings.Add(DatasetProblem.Warning(dir, $"folder '{name}' has {parsed.Repeats} repeats, so it is skipped; rename it to start with 1 or more."));
                    continue;
                }
                subsets.Add(new SubsetOptions
                {
                    ImageDir = Path.GetFullPath(dir),
                    IsReg = isReg,
                    NumRepeats = parsed.Repeats,
                    ClassTokens = parsed.ClassTokens,
                    CaptionExtension = arguments.CaptionExtension ?? DatasetDefaults.CaptionExtension,
                    ShuffleCaption = arguments.ShuffleCaption ?? false,
                    KeepTokens = arguments.KeepTokens ?? 0,
                    FlipAug = arguments.FlipAug ?? false,
                    AlphaMask = arguments.AlphaMask ?? false,
                    ColorAug = arguments.ColorAug ?? false,
                    RandomCrop = arguments.RandomCrop ?? false,
                    CaptionDropoutRate = arguments.CaptionDropoutRate ?? 0,
                    CaptionDropoutEveryNEpochs = arguments.CaptionDropoutEveryNEpochs ?? 0,
                    CaptionTagDropoutRate = arguments.CaptionTagDropoutRate ?? 0,
                    KeepTokensSeparator = arguments.KeepTokensSeparator ?? "",
                    SecondarySeparator = arguments.SecondarySeparator ?? "",
                    CaptionSeparator = arguments.CaptionSeparator ?? ",",
                    CaptionPrefix = arguments.CaptionPrefix ?? "",
                    CaptionSuffix = arguments.CaptionSuffix ?? "",
                    EnableWildcard = arguments.EnableWildcard ?? false,
                    TokenWarmupMin = arguments.TokenWarmupMin ?? 1,
                    TokenWarmupStep = arguments.TokenWarmupStep ?? 0,
                    KeyPath = name,
                });
            }
        }
    }
}
