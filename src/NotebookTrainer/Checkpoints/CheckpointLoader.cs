using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using NotebookTrainer.Progress;
using static TorchSharp.torch;

namespace NotebookTrainer.Checkpoints;

/// <summary>
/// Loads SD1/SD2/SDXL base models from a single LDM/sgm-layout file (.safetensors, or a pickle through the restricted reader)
/// or a diffusers folder, into diffusers names.
/// </summary>
public static class CheckpointLoader
{
    public static readonly string[] PickleExtensions = [".ckpt", ".pt", ".pth", ".bin"];

    /// <summary>
    /// Loads every component. <paramref name="configDir"/> is a diffusers folder whose config.json files describe a
    /// single file (defaults: the public SD1.5 / SD2.1 configs). <paramref name="dtype"/> converts floating tensors.
    /// </summary>
    public static StableDiffusionWeights Load(string path, string? configDir = null, ScalarType? dtype = null,
        IProgress<ProgressUpdate>? progress = null, CancellationToken cancellationToken = default)
    {
        using var analysis = Analyze(path, configDir);
        analysis.ThrowIfNotLoadable();
        var weights = new StableDiffusionWeights(analysis.Detection.Architecture, analysis.Configs!)
        {
            TokenizerDir = analysis.TokenizerDir,
            SourcePath = path,
        };
        try
        {
            if (analysis.Format != CheckpointFormat.DiffusersFolder)
                foreach (var (key, value) in analysis.Sources[0].Metadata) weights.Metadata[key] = value;
            var groups = analysis.Resolved.GroupBy(r => (r.Source, r.StoredName)).ToList();
            var tracker = new ProgressTracker("load checkpoint", groups.Count + analysis.PassthroughKeys.Count, progress);
            foreach (var group in groups)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var (source, name) = group.Key;
                var stored = source.Load(name, IsFloating(source.DType(name)) ? dtype : null);
                foreach (var resolved in group)
                    weights.Components[resolved.Mapping.Component][resolved.Mapping.DiffusersName] = ToDiffusers(stored, resolved.Mapping);
                if (group.All(r => r.Mapping.Transform != KeyTransform.None)) stored.Dispose();
                tracker.Advance(detail: name);
            }
            foreach (var name in analysis.PassthroughKeys)
            {
                weights.Passthrough[name] = analysis.Sources[0].Load(name);
                tracker.Advance(detail: name);
            }
            return weights;
        }
        catch
        {
            weights.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Opens the checkpoint and checks names and shapes without loading weights. Dispose the result. Without
    /// <paramref name="configDir"/>, a <c>config/</c> folder beside a single file (the tiny models' layout, and what
    /// fine-tuning writes) describes it; else the public SD 1.5 / 2.1 configs do.
    /// </summary>
    public static CheckpointAnalysis Analyze(string path, string? configDir = null)
    {
        if (Directory.Exists(path)) return AnalyzeDiffusers(path);
        if (!File.Exists(path))
            throw new FileNotFoundException($"{path}: no such checkpoint file or diffusers folder.", path);
        configDir ??= ConfigsBeside(path);
        var extension = System.IO.Path.GetExtension(path).ToLowerInvariant();
        var isPickle = PickleExtensions.Contains(extension) || PickleCheckpoint.LooksLikePickle(path);
        ITensorSource source = isPickle ? PickleCheckpoint.Open(path) : SafeTensorsSource.Open(path);
        try
        {
            return AnalyzeSingleFile(path, isPickle ? CheckpointFormat.Pickle : CheckpointFormat.SingleFile, source, configDir);
        }
        catch
        {
            source.Dispose();
            throw;
        }
    }

    static string? ConfigsBeside(string path)
    {
        var candidate = System.IO.Path.Combine(System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path))!, "config");
        return DiffusersConfigs.ComponentFolders.All(c => File.Exists(System.IO.Path.Combine(candidate, c, "config.json"))) ? candidate : null;
    }

    static CheckpointAnalysis AnalyzeSingleFile(string path, CheckpointFormat format, ITensorSource source, string? configDir)
    {
        var detection = ArchitectureDetector.DetectSingleFile(source.Names, source.Shape);
        var analysis = new CheckpointAnalysis(path, format, detection, [source]);
        var nextTo = System.IO.Path.Combine(System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path))!, "tokenizer");
        analysis.TokenizerDir = configDir != null && Directory.Exists(System.IO.Path.Combine(configDir, "tokenizer"))
            ? System.IO.Path.Combine(configDir, "tokenizer")
            : Directory.Exists(nextTo) ? nextTo : null;
        if (!detection.Supported) return analysis;

        var configs = configDir != null ? DiffusersConfigs.Read(configDir) : DefaultsFittedTo(detection.Architecture, source);
        analysis.Configs = configs;
        var mapped = new HashSet<string>(StringComparer.Ordinal);
        foreach (var mapping in SingleFileLayout.Mappings(detection.Architecture, configs))
        {
            var stored = source.Names.Contains(mapping.LdmName) ? mapping.LdmName : SingleFileLayout.WithoutTextModel(mapping.LdmName);
            if (!source.Names.Contains(stored))
            {
                if (mapped.Add(mapping.LdmName)) analysis.MissingKeys.Add(mapping.LdmName);
                continue;
            }
            if (mapped.Add(stored) && !source.Shape(stored).SequenceEqual(mapping.LdmShape))
                analysis.ShapeMismatches.Add($"{stored} is [{string.Join(", ", source.Shape(stored))}], expected [{string.Join(", ", mapping.LdmShape)}]");
            analysis.Resolved.Add(new ResolvedTensor(mapping, source, stored));
        }
        foreach (var name in source.Names.Where(n => !mapped.Contains(n)).Order(StringComparer.Ordinal))
        {
            if (SingleFileLayout.IsIgnored(name)) analysis.IgnoredKeys.Add(name);
            else if (SingleFileLayout.IsPassthrough(name)) analysis.PassthroughKeys.Add(name);
            else analysis.UnexpectedKeys.Add(name);
        }
        return analysis;
    }

    /// <summary>The built-in configs with the few values that vary between released variants read from the weights.</summary>
    static DiffusersConfigs DefaultsFittedTo(ModelArchitecture architecture, ITensorSource source)
    {
        var configs = DiffusersConfigs.Defaults(architecture);
        var convIn = UNetKeyMap.LdmPrefix + "input_blocks.0.0.weight";
        if (source.Names.Contains(convIn)) configs.Unet["in_channels"] = source.Shape(convIn)[1];
        var openClip = architecture == ModelArchitecture.StableDiffusion2;
        var layer = openClip ? OpenClipLayer : HuggingFaceLayer;
        var count = source.Names.Select(n => layer.Match(n)).Where(m => m.Success).Select(m => int.Parse(m.Groups[1].Value) + 1).DefaultIfEmpty(0).Max();
        // diffusers keeps SD2's text tower without its last block (SD2 conditions on the penultimate layer).
        if (count > 0) configs.TextEncoder["num_hidden_layers"] = openClip ? count - 1 : count;
        return configs;
    }

    static readonly Regex OpenClipLayer = new(@"^cond_stage_model\.model\.transformer\.resblocks\.(\d{1,3})\.", RegexOptions.CultureInvariant);
    static readonly Regex HuggingFaceLayer = new(@"^cond_stage_model\.transformer\.(?:text_model\.)?encoder\.layers\.(\d{1,3})\.", RegexOptions.CultureInvariant);

    static CheckpointAnalysis AnalyzeDiffusers(string dir)
    {
        var missingFolders = DiffusersConfigs.ComponentFolders.Where(c => !Directory.Exists(System.IO.Path.Combine(dir, c))).ToList();
        if (missingFolders.Count > 0)
            throw new CheckpointFormatException($"{dir}: this diffusers folder has no {string.Join(", ", missingFolders.Select(f => f + "/"))} subfolder. A diffusers model needs unet/, vae/ and text_encoder/ (each with config.json and weights); re-download the full model.");
        var configs = DiffusersConfigs.Read(dir);
        var detection = ArchitectureDetector.DetectDiffusers(configs);
        if (ReadModelIndexClass(dir) is { } pipeline && pipeline.Contains("XL", StringComparison.Ordinal) && detection.Architecture != ModelArchitecture.StableDiffusionXL)
            detection = new ArchitectureDetection(ModelArchitecture.StableDiffusionXL, false, $"{pipeline} (SDXL) needs text_encoder_2/ and an SDXL unet config (addition_embed_type \"text_time\"); this folder lacks them.");

        var sources = new List<ITensorSource>();
        try
        {
            var byComponent = new Dictionary<string, ITensorSource>();
            var components = configs.TextEncoder2 is null ? DiffusersConfigs.ComponentFolders : [.. DiffusersConfigs.ComponentFolders, StableDiffusionWeights.TextEncoder2Component];
            foreach (var component in components)
            {
                var file = FindWeightsFile(dir, component);
                ITensorSource source = PickleExtensions.Contains(System.IO.Path.GetExtension(file)) ? PickleCheckpoint.Open(file) : SafeTensorsSource.Open(file);
                sources.Add(source);
                byComponent[component] = source;
            }
            var analysis = new CheckpointAnalysis(dir, CheckpointFormat.DiffusersFolder, detection, sources)
            {
                Configs = configs,
                TokenizerDir = Directory.Exists(System.IO.Path.Combine(dir, "tokenizer")) ? System.IO.Path.Combine(dir, "tokenizer") : null,
            };
            if (!detection.Supported) return analysis;

            var text = ClipTextKeyMap.BuildHuggingFace(configs.TextEncoderConfig);
            if (configs.TextEncoder2Config is { } text2)
                text.AddRange(ClipTextKeyMap.BuildHuggingFace(text2, "", StableDiffusionWeights.TextEncoder2Component, projection: true));
            var expected = text.Select(m => m with { LdmName = m.DiffusersName })
                .Concat(UNetKeyMap.Build(configs.UnetConfig)).Concat(VaeKeyMap.Build(configs.VaeConfig));
            var used = sources.ToDictionary(s => s, _ => new HashSet<string>(StringComparer.Ordinal));
            foreach (var mapping in expected)
            {
                var source = byComponent[mapping.Component];
                var stored = DiffusersAliases(mapping.DiffusersName).FirstOrDefault(source.Names.Contains);
                if (stored == null)
                {
                    analysis.MissingKeys.Add($"{mapping.Component}/{mapping.DiffusersName}");
                    continue;
                }
                used[source].Add(stored);
                var shape = source.Shape(stored);
                if (!shape.SequenceEqual(mapping.Shape) && !(mapping.Transform == KeyTransform.ConvToLinear && shape.SequenceEqual(mapping.LdmShape)))
                    analysis.ShapeMismatches.Add($"{mapping.Component}/{stored} is [{string.Join(", ", shape)}], expected [{string.Join(", ", mapping.Shape)}]");
                analysis.Resolved.Add(new ResolvedTensor(mapping with { Transform = shape.Length == 4 && mapping.Transform == KeyTransform.ConvToLinear ? KeyTransform.ConvToLinear : KeyTransform.None }, source, stored));
            }
            foreach (var (component, source) in byComponent)
                foreach (var name in source.Names.Where(n => !used[source].Contains(n)).Order(StringComparer.Ordinal))
                {
                    if (component is StableDiffusionWeights.TextEncoderComponent or StableDiffusionWeights.TextEncoder2Component && name == ClipTextKeyMap.PositionIds) analysis.IgnoredKeys.Add($"{component}/{name}");
                    else analysis.UnexpectedKeys.Add($"{component}/{name}");
                }
            return analysis;
        }
        catch
        {
            foreach (var source in sources) source.Dispose();
            throw;
        }
    }

    /// <summary>Older diffusers releases named the VAE attention query/key/value/proj_attn.</summary>
    internal static IEnumerable<string> DiffusersAliases(string name)
    {
        yield return name;
        if (!name.Contains("mid_block.attentions.0.", StringComparison.Ordinal)) yield break;
        foreach (var (current, legacy) in new[] { (".to_q.", ".query."), (".to_k.", ".key."), (".to_v.", ".value."), (".to_out.0.", ".proj_attn."), (".group_norm.", ".group_norm.") })
            if (name.Contains(current, StringComparison.Ordinal)) yield return name.Replace(current, legacy, StringComparison.Ordinal);
    }

    static string FindWeightsFile(string dir, string component)
    {
        var isText = component is StableDiffusionWeights.TextEncoderComponent or StableDiffusionWeights.TextEncoder2Component;
        var stem = isText ? "model" : "diffusion_pytorch_model";
        var folder = System.IO.Path.Combine(dir, component);
        var candidates = new[] { $"{stem}.safetensors", $"{stem}.fp16.safetensors", $"{(isText ? "pytorch_model" : stem)}.bin", $"{(isText ? "pytorch_model" : stem)}.fp16.bin" };
        return candidates.Select(c => System.IO.Path.Combine(folder, c)).FirstOrDefault(File.Exists)
            ?? throw new CheckpointFormatException($"{folder}: no weights file; expected {candidates[0]} (or {string.Join(", ", candidates[1..])}).");
    }

    static string? ReadModelIndexClass(string dir)
    {
        var index = System.IO.Path.Combine(dir, "model_index.json");
        if (!File.Exists(index)) return null;
        try { return JsonNode.Parse(File.ReadAllText(index))?["_class_name"]?.GetValue<string>(); }
        catch (Exception e) when (e is System.Text.Json.JsonException or InvalidOperationException)
        {
            throw new CheckpointFormatException($"{index}: not valid JSON or no string _class_name ({e.Message}).");
        }
    }

    internal static bool IsFloating(string dtype) => dtype is "F16" or "BF16" or "F32" or "F64";

    static Tensor ToDiffusers(Tensor stored, KeyMapping mapping) => mapping.Transform switch
    {
        KeyTransform.ConvToLinear => stored.reshape(mapping.Shape),
        KeyTransform.QkvSplit => stored.narrow(0, mapping.Part * mapping.Shape[0], mapping.Shape[0]),
        KeyTransform.Transpose => stored.t().contiguous(),
        _ => stored,
    };
}
