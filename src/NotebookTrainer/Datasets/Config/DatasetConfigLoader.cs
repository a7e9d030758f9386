using System.Globalization;
using NotebookTrainer.Configuration;

namespace NotebookTrainer.Datasets.Config;

/// <summary>
/// Validates a parsed config against kohya's schema and resolves every value. All errors of a file are collected
/// and thrown together, each naming file, line, key path and the fix.
/// </summary>
static class DatasetConfigLoader
{
    public static DatasetConfig Load(string path, DatasetArguments? arguments)
    {
        if (IO.UntrustedFile.KindOf(path) == IO.FileKind.Missing)
            throw new ConfigException([DatasetProblem.Error(path, "dataset config file not found; check the path.")]);
        string text;
        try { text = IO.UntrustedFile.ReadAllText(path, IO.InputLimits.Current.MaxConfigBytes, nameof(IO.InputLimits.MaxConfigBytes)); }
        catch (IO.UntrustedFileException e) { throw new ConfigException([DatasetProblem.Error(path, e.Reason)]); }
        return Parse(text, path, arguments);
    }

    public static DatasetConfig Parse(string text, string file, DatasetArguments? arguments)
    {
        var isJson = file.EndsWith(".json", StringComparison.OrdinalIgnoreCase);
        var root = isJson ? ConfigTree.ParseJson(text, file) : ConfigTree.ParseToml(text, file);
        return new Resolver(file, arguments ?? new DatasetArguments()).Resolve(root);
    }

    sealed class Resolver(string file, DatasetArguments arguments)
    {
        readonly List<DatasetProblem> errors = [];
        readonly List<DatasetProblem> warnings = [];
        readonly string baseDir = Path.GetDirectoryName(Path.GetFullPath(file)) ?? ".";

        void Error(ConfigEntry? at, string key, string message) => errors.Add(DatasetProblem.Error(file, message, at?.Line, key));
        void Warn(ConfigEntry? at, string key, string message) => warnings.Add(DatasetProblem.Warning(file, message, at?.Line, key));

        public DatasetConfig Resolve(ConfigTable root)
        {
            ConfigTable general = new(0, []);
            ConfigArray? datasets = null;
            foreach (var entry in root.Entries)
            {
                switch (entry.Key)
                {
                    case "general" when entry.Value is ConfigTable t: general = t; break;
                    case "general": Error(entry, "general", "must be a table: write [general] on its own line, then its keys."); break;
                    case "datasets" when entry.Value is ConfigArray { Items: var items } a && items.All(i => i is ConfigTable): datasets = a; break;
                    case "datasets": Error(entry, "datasets", "must be an array of tables: start each dataset with [[datasets]]."); break;
                    default: UnknownKey(entry, entry.Key, ConfigLevel.None, topLevel: true); break;
                }
            }
            CheckKeys(general, "general", ConfigLevel.General);
            if (datasets == null || datasets.Items.Count == 0)
                errors.Add(DatasetProblem.Error(file, "no [[datasets]] table; add [[datasets]] with at least one [[datasets.subsets]] that sets image_dir.", null, "datasets"));

            var resolved = new List<DatasetOptions>();
            for (var d = 0; datasets != null && d < datasets.Items.Count; d++)
                if (ResolveDataset((ConfigTable)datasets.Items[d], d, general) is { } dataset) resolved.Add(dataset);

            if (errors.Count > 0) throw new ConfigException(errors);
            return new DatasetConfig(file, resolved, warnings);
        }

        void UnknownKey(ConfigEntry entry, string path, ConfigLevel level, bool topLevel = false)
        {
            var name = entry.Key;
            if (ConfigSchema.CommandLineOnly.Contains(name))
            {
                Error(entry, path, $"'{name}' is a training argument, not a dataset config key (kohya: extra keys not allowed); remove it here and pass --{name} to training.");
                return;
            }
            if (topLevel)
            {
                var hint = name is "dataset" or "subsets" or "subset" ? " Did you mean [[datasets]]?" : ConfigSchema.Find(name) != null ? $" Keys like '{name}' go under [general] or [[datasets]]." : "";
                Error(entry, path, $"unknown top-level key '{name}' (kohya: extra keys not allowed); only [general] and [[datasets]] are allowed.{hint}");
                return;
            }
            var known = ConfigSchema.Find(name);
            if (known != null)
            {
                var where = (known.Levels & ConfigLevel.Subset) != 0 && known.Levels != ConfigLevel.All
                    ? "only in a [[datasets.subsets]] table"
                    : "only in [[datasets]] or [general], not in a subset";
                Error(entry, path, $"'{name}' is not allowed here (kohya: extra keys not allowed); it belongs {where}.");
                return;
            }
            var suggestion = ConfigSchema.DidYouMean(name, level);
            Error(entry, path, $"unknown key '{name}' (kohya: extra keys not allowed)." + (suggestion != null ? $" Did you mean '{suggestion}'?" : " Check the spelling against kohya's config_README."));
        }

        void CheckKeys(ConfigTable table, string path, ConfigLevel level)
        {
            foreach (var entry in table.Entries)
            {
                if (level == ConfigLevel.Dataset && entry.Key == "subsets") continue;
                var keyPath = $"{path}.{entry.Key}";
                var key = ConfigSchema.Find(entry.Key);
                if (key == null || (key.Levels & level) == 0) { UnknownKey(entry, keyPath, level); continue; }
                CheckType(entry, key, keyPath);
            }
        }

        void CheckType(ConfigEntry entry, ConfigKey key, string path)
        {
            if (IsValid(entry, key)) return;
            var got = Describe(entry.Value);
            var fix = (key.Kind, entry.Value) switch
            {
                (ConfigValueKind.Resolution, ConfigArray { Items: [ConfigScalar { Value: long v }] }) => $" Write {entry.Key} = {v}.",
                (ConfigValueKind.Int or ConfigValueKind.Number, ConfigScalar { Value: string s }) when double.TryParse(s, CultureInfo.InvariantCulture, out _) => $" Remove the quotes: {entry.Key} = {s}.",
                (ConfigValueKind.Bool, ConfigScalar { Value: string s }) when s.ToLowerInvariant() is "true" or "false" => $" Remove the quotes: {entry.Key} = {s.ToLowerInvariant()}.",
                (ConfigValueKind.Int, ConfigScalar { Value: double f }) => $" Use a whole number: {entry.Key} = {Math.Round(f)}.",
                (ConfigValueKind.Int or ConfigValueKind.Resolution, ConfigScalar { Value: long }) => " It is out of range: use a value between -2147483648 and 2147483647.",
                _ => "",
            };
            Error(entry, path, $"expected {ConfigSchema.Describe(key.Kind)} for '{entry.Key}', got {got}.{fix}");
        }

        static string Describe(ConfigNode node) => node switch
        {
            ConfigScalar { Value: string s } => $"the string \"{s}\"",
            ConfigScalar s => $"{s.TypeName} {Convert.ToString(s.Value, CultureInfo.InvariantCulture)?.ToLowerInvariant()}",
            ConfigArray a => $"an array of {a.Items.Count}",
            ConfigTable => "a table",
            _ => node.GetType().Name,
        };

        /// <summary>First valid value along the chain; entries with type errors were reported and are skipped.</summary>
        (ConfigEntry Entry, ConfigNode Value)? Lookup(string key, params ConfigTable[] chain)
        {
            var schema = ConfigSchema.Find(key)!;
            foreach (var table in chain)
            {
                var entry = table.Find(key);
                if (entry == null) continue;
                return IsValid(entry, schema) ? (entry, entry.Value) : null;
            }
            return null;
        }

        static bool IsValid(ConfigEntry entry, ConfigKey key) => (key.Kind, entry.Value) switch
        {
            (ConfigValueKind.Bool, ConfigScalar { Value: bool }) => true,
            (ConfigValueKind.Int, ConfigScalar { Value: long v }) => v is >= int.MinValue and <= int.MaxValue,
            (ConfigValueKind.Number, ConfigScalar { Value: long or double }) => true,
            (ConfigValueKind.String, ConfigScalar { Value: string }) => true,
            (ConfigValueKind.Table, ConfigTable) => true,
            (ConfigValueKind.NumberPair, ConfigArray { Items: [ConfigScalar { Value: long or double }, ConfigScalar { Value: long or double }] }) => true,
            (ConfigValueKind.Resolution, ConfigScalar { Value: long v }) => v is >= int.MinValue and <= int.MaxValue,
            (ConfigValueKind.Resolution, ConfigArray { Items: [ConfigScalar { Value: long w }, ConfigScalar { Value: long h }] }) => w is >= int.MinValue and <= int.MaxValue && h is >= int.MinValue and <= int.MaxValue,
            _ => false,
        };

        T Get<T>(string key, T fallback, ConfigTable[] chain, Func<ConfigNode, T> convert) =>
            Lookup(key, chain) is { } found ? convert(found.Value) : fallback;

        static bool AsBool(ConfigNode n) => (bool)((ConfigScalar)n).Value;
        static int AsInt(ConfigNode n) => (int)Math.Clamp((long)((ConfigScalar)n).Value, int.MinValue, int.MaxValue);
        static double AsNumber(ConfigNode n) => Convert.ToDouble(((ConfigScalar)n).Value, CultureInfo.InvariantCulture);
        static string AsString(ConfigNode n) => (string)((ConfigScalar)n).Value;

        /// <summary>An int v means (v, v); [w, h] means (w, h).</summary>
        static (int, int) AsSize(ConfigNode n) => n is ConfigScalar s
            ? (AsInt(s), AsInt(s))
            : (AsInt(((ConfigArray)n).Items[0]), AsInt(((ConfigArray)n).Items[1]));

        DatasetOptions? ResolveDataset(ConfigTable dataset, int index, ConfigTable general)
        {
            var path = $"datasets[{index}]";
            CheckKeys(dataset, path, ConfigLevel.Dataset);
            var args = arguments.ToTable();
            ConfigTable[] chain = [dataset, general, args];

            var subsetsEntry = dataset.Find("subsets");
            var subsetTables = new List<ConfigTable>();
            if (subsetsEntry?.Value is ConfigArray { Items: var items } && items.All(i => i is ConfigTable))
                subsetTables.AddRange(items.Cast<ConfigTable>());
            else if (subsetsEntry != null)
                Error(subsetsEntry, $"{path}.subsets", "must be an array of tables: start each subset with [[datasets.subsets]].");
            if (subsetTables.Count == 0)
            {
                errors.Add(DatasetProblem.Error(file, $"dataset has no subsets; add a [[datasets.subsets]] table with image_dir below this [[datasets]].", dataset.Line, $"{path}.subsets"));
                return null;
            }

            var fineTune = subsetTables.Select(s => s.Find("metadata_file") != null).ToList();
            var isFineTune = fineTune.All(f => f);
            if (fineTune.Distinct().Count() > 1)
            {
                errors.Add(DatasetProblem.Error(file, "DreamBooth subset and fine tuning subset cannot be mixed in the same dataset; put the subsets with metadata_file in their own [[datasets]].", dataset.Line, path));
                return null;
            }

            var resolutionFound = Lookup("resolution", chain);
            (int, int) resolution = (0, 0);
            if (resolutionFound is { } r)
            {
                resolution = AsSize(r.Value);
                foreach (var side in new[] { resolution.Item1, resolution.Item2 }.Distinct())
                {
                    if (side <= 0 || side % 64 != 0)
                    {
                        var low = Math.Max(64, side / 64 * 64);
                        Error(r.Entry, KeyPathOf(r.Entry, path, general), $"resolution {side} is not a positive multiple of 64 (Stable Diffusion latents are 1/8 size and buckets step by 64); use {low} or {low + 64}.");
                    }
                }
            }
            else if (!chain.Any(t => t.Find("resolution") != null)) // a present but mistyped resolution was reported already
                errors.Add(DatasetProblem.Error(file, "required key not provided: resolution; set resolution = 512 in [general] or this [[datasets]] (SD1.x 512, SD2 768).", dataset.Line, $"{path}.resolution"));

            var steps = Get("bucket_reso_steps", DatasetDefaults.BucketResoSteps, chain, AsInt);
            if (steps <= 0 || steps % 64 != 0)
                Error(Lookup("bucket_reso_steps", chain)?.Entry, $"{path}.bucket_reso_steps", $"bucket_reso_steps {steps} must be a positive multiple of 64 for SD1/SD2 (kohya asserts this); use 64.");
            var minReso = Get("min_bucket_reso", DatasetDefaults.MinBucketReso, chain, AsInt);
            var maxReso = Get("max_bucket_reso", DatasetDefaults.MaxBucketReso, chain, AsInt);
            var noUpscale = Get("bucket_no_upscale", false, chain, AsBool);
            var enableBucket = Get("enable_bucket", false, chain, AsBool);
            if (steps > 0 && steps % 64 == 0)
            {
                if (minReso % steps != 0)
                {
                    var rounded = minReso - minReso % steps;
                    Warn(Lookup("min_bucket_reso", chain)?.Entry, $"{path}.min_bucket_reso", $"min_bucket_reso {minReso} is not divisible by bucket_reso_steps {steps}; rounded down to {rounded}.");
                    minReso = rounded;
                }
                if (maxReso % steps != 0)
                {
                    var rounded = maxReso + steps - maxReso % steps;
                    Warn(Lookup("max_bucket_reso", chain)?.Entry, $"{path}.max_bucket_reso", $"max_bucket_reso {maxReso} is not divisible by bucket_reso_steps {steps}; rounded up to {rounded}.");
                    maxReso = rounded;
                }
            }
            if (enableBucket && noUpscale && (Lookup("min_bucket_reso", chain) != null || Lookup("max_bucket_reso", chain) != null))
                Warn(Lookup("bucket_no_upscale", chain)?.Entry, $"{path}.bucket_no_upscale", "min_bucket_reso and max_bucket_reso are ignored when bucket_no_upscale is set.");
            else if (enableBucket && resolution.Item1 > 0)
            {
                if (Math.Min(resolution.Item1, resolution.Item2) < minReso)
                    Error(resolutionFound?.Entry, $"{path}.resolution", $"min(resolution) {Math.Min(resolution.Item1, resolution.Item2)} is below min_bucket_reso {minReso}; lower min_bucket_reso or raise resolution.");
                if (Math.Max(resolution.Item1, resolution.Item2) > maxReso)
                    Error(resolutionFound?.Entry, $"{path}.resolution", $"max(resolution) {Math.Max(resolution.Item1, resolution.Item2)} is above max_bucket_reso {maxReso}; raise max_bucket_reso or lower resolution.");
            }
            var batchSize = Get("batch_size", 1, chain, AsInt);
            if (batchSize < 1) Error(Lookup("batch_size", chain)?.Entry, $"{path}.batch_size", $"batch_size {batchSize} must be at least 1.");

            var subsets = new List<SubsetOptions>();
            var seen = new Dictionary<string, string>(StringComparer.Ordinal);
            for (var s = 0; s < subsetTables.Count; s++)
            {
                var subset = ResolveSubset(subsetTables[s], $"{path}.subsets[{s}]", [subsetTables[s], dataset, general, args], isFineTune);
                if (subset == null) continue;
                if (subset.NumRepeats > IO.InputLimits.Current.MaxSamplesPerEpoch)
                {
                    Error(Lookup("num_repeats", subsetTables[s], dataset, general)?.Entry, $"{subset.KeyPath}.num_repeats", $"num_repeats {subset.NumRepeats} would put more than {IO.InputLimits.Current.MaxSamplesPerEpoch:N0} samples in an epoch ({IO.InputLimits.VariableFor(nameof(IO.InputLimits.MaxSamplesPerEpoch))}); use a few repeats and more epochs.");
                    continue;
                }
                if (subset.NumRepeats < 1)
                {
                    Warn(Lookup("num_repeats", subsetTables[s], dataset, general)?.Entry, $"{subset.KeyPath}.num_repeats", $"num_repeats {subset.NumRepeats} is less than 1, so this subset is skipped (kohya ignores it); set num_repeats = 1 or more to train on it.");
                    continue;
                }
                var identity = subset.MetadataFile ?? subset.ImageDir ?? "";
                if (seen.TryGetValue(identity, out var first))
                {
                    warnings.Add(DatasetProblem.Warning(file, $"duplicate subset: {(subset.IsFineTune ? "metadata_file" : "image_dir")} '{identity}' is already used by {first}; this one is skipped. Remove it or merge their options.", subset.Line, subset.KeyPath));
                    continue;
                }
                seen[identity] = subset.KeyPath;
                subsets.Add(subset);
            }

            return new DatasetOptions
            {
                Index = index,
                IsFineTune = isFineTune,
                Resolution = resolution,
                BatchSize = batchSize,
                EnableBucket = enableBucket,
                MinBucketReso = minReso,
                MaxBucketReso = maxReso,
                BucketResoSteps = steps,
                BucketNoUpscale = noUpscale,
                ValidationSeed = Lookup("validation_seed", chain) is { } vs ? AsInt(vs.Value) : null,
                ValidationSplit = Get("validation_split", 0.0, chain, AsNumber),
                NetworkMultiplier = Get("network_multiplier", 1.0, chain, AsNumber),
                ResizeInterpolation = Get<string?>("resize_interpolation", null, chain, AsString),
                SkipImageResolution = Lookup("skip_image_resolution", chain) is { } skip ? AsSize(skip.Value) : null,
                Subsets = subsets,
            };
        }

        /// <summary>kohya's (voluptuous) spelling of a key path: datasets[0].subsets[1] → data['datasets'][0]['subsets'][1].</summary>
        static string KohyaPath(string path) =>
            "data" + System.Text.RegularExpressions.Regex.Replace(path, @"(\w+)\[(\d+)\]\.?", "['$1'][$2]");

        static string KeyPathOf(ConfigEntry entry, string datasetPath, ConfigTable general) =>
            general.Entries.Contains(entry) ? $"general.{entry.Key}" : $"{datasetPath}.{entry.Key}";

        SubsetOptions? ResolveSubset(ConfigTable table, string path, ConfigTable[] chain, bool isFineTune)
        {
            CheckKeys(table, path, ConfigLevel.Subset);
            if (isFineTune)
            {
                foreach (var entry in table.Entries.Where(e => ConfigSchema.Find(e.Key) is { DreamBoothOnly: true }))
                    Error(entry, $"{path}.{entry.Key}", $"'{entry.Key}' is a DreamBooth key; a fine-tune subset (with metadata_file) does not use it. Remove it, or drop metadata_file and use image_dir with caption files.");
            }
            var imageDirEntry = table.Find("image_dir");
            var metadataEntry = table.Find("metadata_file");
            if (!isFineTune && imageDirEntry == null)
            {
                errors.Add(DatasetProblem.Error(file, $"required key not provided @ {KohyaPath(path)}['image_dir']: add image_dir = '/path/to/images' to this [[datasets.subsets]].", table.Line, $"{path}.image_dir"));
                return null;
            }
            var prefix = Get("caption_prefix", "", chain, AsString);
            return new SubsetOptions
            {
                ImageDir = Lookup("image_dir", table) is { } dir ? ResolvePath(AsString(dir.Value)) : null,
                MetadataFile = metadataEntry != null && Lookup("metadata_file", table) is { } meta ? ResolvePath(AsString(meta.Value)) : null,
                IsReg = Get("is_reg", false, [table], AsBool),
                // A subset key in kohya's schema; the training arguments (the last table) are its only fallback.
                AlphaMask = Get("alpha_mask", false, [table, chain[^1]], AsBool),
                NumRepeats = Get("num_repeats", 1, chain, AsInt),
                // DreamBooth-only values inherited from [general]/[[datasets]] mean nothing to a fine-tune subset.
                CaptionExtension = isFineTune ? DatasetDefaults.CaptionExtension : Get("caption_extension", DatasetDefaults.CaptionExtension, chain, AsString),
                ClassTokens = isFineTune ? null : Get<string?>("class_tokens", null, chain, AsString),
                CacheInfo = !isFineTune && Get("cache_info", false, chain, AsBool),
                ShuffleCaption = Get("shuffle_caption", false, chain, AsBool),
                KeepTokens = CheckNonNegative(Get("keep_tokens", 0, chain, AsInt), "keep_tokens", path, chain),
                KeepTokensSeparator = Get("keep_tokens_separator", "", chain, AsString),
                SecondarySeparator = Get("secondary_separator", "", chain, AsString),
                CaptionSeparator = Get("caption_separator", ",", chain, AsString),
                CaptionPrefix = prefix,
                CaptionSuffix = Get("caption_suffix", "", chain, AsString),
                EnableWildcard = Get("enable_wildcard", false, chain, AsBool),
                ColorAug = Get("color_aug", false, chain, AsBool),
                FlipAug = Get("flip_aug", false, chain, AsBool),
                RandomCrop = Get("random_crop", false, chain, AsBool),
                FaceCropAugRange = Lookup("face_crop_aug_range", chain) is { } f
                    ? (AsNumber(((ConfigArray)f.Value).Items[0]), AsNumber(((ConfigArray)f.Value).Items[1]))
                    : null,
                TokenWarmupMin = Get("token_warmup_min", 1, chain, AsInt),
                TokenWarmupStep = Get("token_warmup_step", 0.0, chain, AsNumber),
                CaptionDropoutEveryNEpochs = Get("caption_dropout_every_n_epochs", 0, chain, AsInt),
                CaptionDropoutRate = CheckRate(Get("caption_dropout_rate", 0.0, chain, AsNumber), "caption_dropout_rate", path, chain),
                CaptionTagDropoutRate = CheckRate(Get("caption_tag_dropout_rate", 0.0, chain, AsNumber), "caption_tag_dropout_rate", path, chain),
                ResizeInterpolation = Get<string?>("resize_interpolation", null, chain, AsString),
                CustomAttributes = Lookup("custom_attributes", chain) is { Value: ConfigTable attributes } ? ToDictionary(attributes) : null,
                KeyPath = path,
                Line = table.Line,
            };
        }

        int CheckNonNegative(int value, string key, string path, ConfigTable[] chain)
        {
            if (value < 0) Error(Lookup(key, chain)?.Entry, $"{path}.{key}", $"{key} {value} must be 0 or more.");
            return value;
        }

        double CheckRate(double value, string key, string path, ConfigTable[] chain)
        {
            if (value is < 0 or > 1) Error(Lookup(key, chain)?.Entry, $"{path}.{key}", $"{key} {value.ToString(CultureInfo.InvariantCulture)} must be between 0 and 1 (a probability).");
            return value;
        }

        /// <summary>
        /// kohya resolves relative paths against the working directory. We try the config file's folder first, so a
        /// config next to its images works from anywhere, and fall back to the working directory as kohya does.
        /// </summary>
        string ResolvePath(string path)
        {
            if (path.Contains('\0'))
            {
                errors.Add(DatasetProblem.Error(file, $"the path '{IO.Printable.Escape(path)}' holds a NUL character, which no file name can; fix the path."));
                return path.Replace('\0', '\uFFFD');
            }
            if (Path.IsPathRooted(path) || LooksLikeWindowsAbsolute(path)) return path;
            var nextToConfig = Path.GetFullPath(Path.Combine(baseDir, path));
            return Directory.Exists(nextToConfig) || File.Exists(nextToConfig) ? nextToConfig : Path.GetFullPath(path);
        }

        static bool LooksLikeWindowsAbsolute(string path) => path.Length >= 3 && char.IsAsciiLetter(path[0]) && path[1] == ':' && path[2] is '\\' or '/';

        static Dictionary<string, object> ToDictionary(ConfigTable table) =>
            table.Entries.ToDictionary(e => e.Key, e => ToObject(e.Value));

        static object ToObject(ConfigNode node) => node switch
        {
            ConfigScalar s => s.Value,
            ConfigArray a => a.Items.Select(ToObject).ToList(),
            ConfigTable t => ToDictionary(t),
            _ => node,
        };
    }
}
