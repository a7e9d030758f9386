using NotebookTrainer.Models.Layers;
using NotebookTrainer.Optimizers;
using TorchSharp;
using static TorchSharp.torch;
using TorchSharp.Modules;

namespace NotebookTrainer.Networks;

/// <summary>
/// A set of LoRA / LoCon / LoHa modules over a U-Net and one or two text encoders, named and targeted like kohya's
/// <c>networks.lora</c>: the modules are found by walking <c>named_modules()</c> and matching diffusers class
/// names, so any module tree whose classes carry those names works. With two text encoders (SDXL) their modules are
/// <c>lora_te1_…</c> and <c>lora_te2_…</c>, and an SDXL U-Net's are named by their LDM paths (<see cref="KohyaUnetNames"/>).
/// </summary>
public sealed class LoraNetwork : IDisposable
{
    public const string UnetPrefix = "lora_unet";
    public const string TextEncoderPrefix = "lora_te";
    public const string TextEncoder1Prefix = "lora_te1";
    public const string TextEncoder2Prefix = "lora_te2";

    static readonly string[] UnetTargets = ["Transformer2DModel"];
    static readonly string[] UnetConvTargets = ["ResnetBlock2D", "Downsample2D", "Upsample2D"];
    static readonly string[] TextEncoderTargets = ["CLIPAttention", "CLIPMLP"];

    readonly List<NetworkModule> unetModules;
    readonly List<NetworkModule> textEncoderModules;
    bool attached;
    float mergedMultiplier;

    LoraNetwork(NetworkOptions options, List<NetworkModule> unetModules, List<NetworkModule> textEncoderModules, bool isSdxl)
    {
        Options = options;
        this.unetModules = unetModules;
        this.textEncoderModules = textEncoderModules;
        IsSdxl = isSdxl;
    }

    public NetworkOptions Options { get; }

    /// <summary>Built on an SDXL model (kohya's SDXL names: LDM-named U-Net modules, lora_te1/lora_te2).</summary>
    public bool IsSdxl { get; }
    public IReadOnlyList<NetworkModule> UnetModules => unetModules;
    public IReadOnlyList<NetworkModule> TextEncoderModules => textEncoderModules;
    public IEnumerable<NetworkModule> Modules => unetModules.Concat(textEncoderModules);

    /// <summary>Module names found in a loaded file that match no layer of the given models.</summary>
    public IReadOnlyList<string> UnmatchedNames { get; private init; } = [];

    /// <summary>Multiplier of every module (kohya's network multiplier / the weight in &lt;lora:name:w&gt;).</summary>
    public float Multiplier
    {
        get => Modules.FirstOrDefault()?.Multiplier ?? 1f;
        set { foreach (var m in Modules) m.Multiplier = value; }
    }

    public bool IsMerged => mergedMultiplier != 0f;

    /// <summary>
    /// Builds new (untrained) modules for <paramref name="unet"/>, <paramref name="textEncoder"/> and SDXL's
    /// <paramref name="textEncoder2"/> (any may be null).
    /// </summary>
    public static LoraNetwork Create(nn.Module? unet, nn.Module? textEncoder, NetworkOptions options, Device? device = null, nn.Module? textEncoder2 = null)
    {
        var unetModules = new List<NetworkModule>();
        var teModules = new List<NetworkModule>();
        string[] unetTargets = options.AdaptsConvs ? [.. UnetTargets, .. UnetConvTargets] : UnetTargets;
        var ldmPaths = unet is null ? null : KohyaUnetNames.LdmPaths(unet);
        if (unet is not null && options.IncludeUnet)
            foreach (var (name, target) in FindTargets(unet, UnetPrefix, unetTargets, ldmPaths))
                if (CreateModule(name, target, options, device) is { } m) unetModules.Add(m);
        if (options.IncludeTextEncoder)
            foreach (var (prefix, root) in TextEncoderRoots(textEncoder, textEncoder2))
                foreach (var (name, target) in FindTargets(root, prefix, TextEncoderTargets))
                    if (CreateModule(name, target, options, device) is { } m) teModules.Add(m);
        return new LoraNetwork(options, unetModules, teModules, ldmPaths is not null || textEncoder2 is not null);
    }

    /// <summary>kohya's text encoder prefixes: <c>lora_te</c> for one encoder, <c>lora_te1</c>/<c>lora_te2</c> for SDXL's two.</summary>
    static IEnumerable<(string Prefix, nn.Module Root)> TextEncoderRoots(nn.Module? textEncoder, nn.Module? textEncoder2)
    {
        if (textEncoder2 is null)
        {
            if (textEncoder is not null) yield return (TextEncoderPrefix, textEncoder);
            yield break;
        }
        if (textEncoder is not null) yield return (TextEncoder1Prefix, textEncoder);
        yield return (TextEncoder2Prefix, textEncoder2);
    }

    static NetworkModule? CreateModule(string name, TargetLayer target, NetworkOptions options, Device? device)
    {
        var (rank, alpha) = target.IsPointwise ? (options.Dim, options.Alpha) : (options.ConvDim ?? 0, options.ConvAlpha);
        if (rank <= 0) return null;
        NetworkModule module = options.Kind == NetworkKind.LoHa
            ? new LohaModule(name, target, rank, alpha, device: device) { RankDropout = options.RankDropout }
            : new LoraModule(name, target, rank, alpha, device: device) { Dropout = options.Dropout, RankDropout = options.RankDropout };
        module.ModuleDropout = options.ModuleDropout;
        return module;
    }

    /// <summary>
    /// Every adaptable layer inside a module whose class is one of <paramref name="targetClasses"/>, with its kohya name
    /// (<paramref name="prefix"/> + "_" + module path with "." → "_"), in tree order, each once.
    /// </summary>
    /// <param name="kohyaPaths">Module path → the path kohya names it by (an SDXL U-Net's LDM paths); null: the path itself.</param>
    public static IEnumerable<(string Name, TargetLayer Layer)> FindTargets(nn.Module root, string prefix, IReadOnlyCollection<string> targetClasses,
        IReadOnlyDictionary<string, string>? kohyaPaths = null)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (path, module) in WithRoot(root))
        {
            if (!targetClasses.Contains(module.GetType().Name)) continue;
            foreach (var (childPath, child) in module.named_modules())
            {
                var layer = AsTarget(child);
                if (layer is null) continue;
                var name = KohyaName(prefix, path.Length == 0 ? childPath : path + "." + childPath, kohyaPaths);
                if (seen.Add(name)) yield return (name, layer);
            }
        }
    }

    /// <summary>Every adaptable layer of <paramref name="root"/> by kohya name, whatever module contains it.</summary>
    public static Dictionary<string, TargetLayer> AllTargets(nn.Module root, string prefix, IReadOnlyDictionary<string, string>? kohyaPaths = null)
    {
        var map = new Dictionary<string, TargetLayer>(StringComparer.Ordinal);
        foreach (var (path, module) in root.named_modules())
            if (AsTarget(module) is { } layer) map.TryAdd(KohyaName(prefix, path, kohyaPaths), layer);
        return map;
    }

    static string KohyaName(string prefix, string path, IReadOnlyDictionary<string, string>? kohyaPaths)
    {
        if (kohyaPaths is not null)
            path = kohyaPaths.TryGetValue(path, out var kohyaPath) ? kohyaPath
                : throw new InvalidOperationException($"{path}: no LDM name for this U-Net layer; the SDXL key map and the U-Net disagree.");
        return prefix + "_" + path.Replace('.', '_');
    }

    static IEnumerable<(string, nn.Module)> WithRoot(nn.Module root) => root.named_modules().Prepend(("", root));

    static TargetLayer? AsTarget(nn.Module module) => module switch
    {
        AdaptableLinear linear => TargetLayer.Of(linear),
        AdaptableConv2d conv => TargetLayer.Of(conv),
        _ => null,
    };

    /// <summary>Hooks every module into its layer's forward (training and inference without touching weights).</summary>
    public void Attach()
    {
        if (IsMerged) throw new InvalidOperationException("The network is merged into the weights; call Unmerge() before Attach().");
        if (attached) return;
        foreach (var m in Modules) m.Attach();
        attached = true;
    }

    public void Detach()
    {
        if (!attached) return;
        foreach (var m in Modules) m.Detach();
        attached = false;
    }

    /// <summary>Adds ΔW·<paramref name="multiplier"/> into each frozen weight (fast inference, no hooks).</summary>
    public void Merge(float multiplier)
    {
        if (IsMerged) throw new InvalidOperationException($"The network is already merged at {mergedMultiplier}; call Unmerge() first.");
        Detach();
        AddToWeights(multiplier);
        mergedMultiplier = multiplier;
    }

    /// <summary>Subtracts what <see cref="Merge"/> added.</summary>
    public void Unmerge()
    {
        if (!IsMerged) return;
        AddToWeights(-mergedMultiplier);
        mergedMultiplier = 0f;
    }

    void AddToWeights(float multiplier)
    {
        using var _ = no_grad();
        foreach (var m in Modules)
        {
            using var scope = NewDisposeScope();
            var weight = m.Target.Weight;
            var delta = m.DeltaWeight().to(ScalarType.Float32) * multiplier;
            weight.copy_((weight.to(ScalarType.Float32) + delta.to(weight.device)).to(weight.dtype));
        }
    }

    public void SetTraining(bool training)
    {
        foreach (var m in Modules) m.train(training);
    }

    public IEnumerable<Parameter> Parameters() => Modules.SelectMany(m => m.parameters());

    public long ParameterCount => Parameters().Sum(p => p.numel());

    /// <summary>
    /// kohya's optimizer groups: text encoder modules at <paramref name="textEncoderLr"/>, U-Net modules at
    /// <paramref name="unetLr"/>; each falls back to <paramref name="learningRate"/>. A group at lr 0 is left out.
    /// </summary>
    public List<ParameterGroup> ParameterGroups(double learningRate, double? unetLr = null, double? textEncoderLr = null)
    {
        var groups = new List<ParameterGroup>();
        var teLr = textEncoderLr ?? learningRate;
        var uLr = unetLr ?? learningRate;
        if (textEncoderModules.Count > 0 && teLr > 0)
            groups.Add(new ParameterGroup("text_encoder", textEncoderModules.SelectMany(m => m.parameters()).ToList(), teLr));
        if (unetModules.Count > 0 && uLr > 0)
            groups.Add(new ParameterGroup("unet", unetModules.SelectMany(m => m.parameters()).ToList(), uLr));
        return groups;
    }

    /// <summary>Tensors under kohya/LyCORIS keys (<c>{name}.lora_down.weight</c>, <c>{name}.alpha</c>, …), live (not copies).</summary>
    public Dictionary<string, Tensor> StateDict()
    {
        var dict = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var m in Modules)
            foreach (var (key, value) in m.state_dict())
                dict[m.Name + "." + key] = value;
        return dict;
    }

    /// <summary>Copies <paramref name="tensors"/> into this network's modules; every key must match in name and shape.</summary>
    public void LoadStateDict(IReadOnlyDictionary<string, Tensor> tensors)
    {
        var own = StateDict();
        var missing = own.Keys.Where(k => !tensors.ContainsKey(k)).ToList();
        var extra = tensors.Keys.Where(k => !own.ContainsKey(k)).ToList();
        if (missing.Count > 0 || extra.Count > 0)
            throw new ArgumentException($"Network weights do not match this network: {missing.Count} missing (e.g. {missing.FirstOrDefault()}), {extra.Count} unexpected (e.g. {extra.FirstOrDefault()}). Build the network with the same network_dim/conv_dim/algo as the file.");
        using var _ = no_grad();
        foreach (var (key, target) in own)
        {
            var source = tensors[key];
            if (!source.shape.SequenceEqual(target.shape))
                throw new ArgumentException($"{key}: shape [{string.Join(",", source.shape)}] in the file, [{string.Join(",", target.shape)}] in the network.");
            target.copy_(source.to(target.dtype).to(target.device));
        }
    }

    /// <summary>
    /// Builds the network a kohya/LyCORIS file describes (LoRA, LoCon or LoHa, detected from its keys; ranks from
    /// shapes; alphas from <c>.alpha</c>) on the given models and loads its tensors. Names that match no layer are
    /// listed in <see cref="UnmatchedNames"/>; a file that matches nothing throws.
    /// </summary>
    public static LoraNetwork FromStateDict(nn.Module? unet, nn.Module? textEncoder, IReadOnlyDictionary<string, Tensor> tensors, string source = "LoRA file", Device? device = null,
        nn.Module? textEncoder2 = null)
    {
        var targets = new Dictionary<string, TargetLayer>(StringComparer.Ordinal);
        var ldmPaths = unet is null ? null : KohyaUnetNames.LdmPaths(unet);
        if (unet is not null) foreach (var kv in AllTargets(unet, UnetPrefix, ldmPaths)) targets.TryAdd(kv.Key, kv.Value);
        foreach (var (prefix, root) in TextEncoderRoots(textEncoder, textEncoder2))
            foreach (var kv in AllTargets(root, prefix)) targets.TryAdd(kv.Key, kv.Value);

        var byModule = tensors.Keys.GroupBy(k => k[..Math.Max(0, k.IndexOf('.'))], StringComparer.Ordinal).OrderBy(g => g.Key, StringComparer.Ordinal);
        var unetModules = new List<NetworkModule>();
        var teModules = new List<NetworkModule>();
        var unmatched = new List<string>();
        var kind = NetworkKind.LoRA;
        int dim = 0, convDim = 0;
        double? alpha = null, convAlpha = null;
        foreach (var group in byModule)
        {
            var name = group.Key;
            if (!targets.TryGetValue(name, out var target)) { unmatched.Add(name); continue; }
            var alphaValue = tensors.TryGetValue(name + ".alpha", out var a) ? a.to(ScalarType.Float32).item<float>() : (double?)null;
            NetworkModule module;
            if (tensors.TryGetValue(name + ".hada_w1_b", out var w1b))
            {
                kind = NetworkKind.LoHa;
                module = new LohaModule(name, target, w1b.shape[0], alphaValue, device: device);
            }
            else if (tensors.TryGetValue(name + ".lora_down.weight", out var down))
            {
                if (!target.IsPointwise && kind == NetworkKind.LoRA) kind = NetworkKind.LoCon;
                module = new LoraModule(name, target, down.shape[0], alphaValue, device: device);
            }
            else
            {
                throw new NotSupportedException($"{source}: module '{name}' has keys [{string.Join(", ", group)}]; only LoRA/LoCon (lora_down/lora_up) and LoHa (hada_w*) are supported.");
            }
            if (target.IsPointwise) { dim = (int)module.Rank; alpha = alphaValue; }
            else { convDim = (int)module.Rank; convAlpha = alphaValue; }
            (name.StartsWith(TextEncoderPrefix, StringComparison.Ordinal) ? teModules : unetModules).Add(module);
        }
        if (unetModules.Count + teModules.Count == 0)
        {
            var sample = string.Join(", ", unmatched.Take(3));
            throw new ArgumentException($"{source}: none of its {unmatched.Count} modules (e.g. {sample}) matches a layer of the loaded model; is it for a different base model (SDXL, SD2)?");
        }
        var options = new NetworkOptions { Kind = kind, Dim = dim, Alpha = alpha, ConvDim = convDim > 0 ? convDim : null, ConvAlpha = convDim > 0 ? convAlpha : null };
        var network = new LoraNetwork(options, unetModules, teModules, ldmPaths is not null || textEncoder2 is not null) { UnmatchedNames = unmatched };
        var own = network.StateDict().Keys.ToHashSet(StringComparer.Ordinal);
        network.LoadStateDict(tensors.Where(kv => own.Contains(kv.Key)).ToDictionary(kv => kv.Key, kv => kv.Value, StringComparer.Ordinal));
        return network;
    }

    public void Dispose()
    {
        Unmerge();
        Detach();
        foreach (var m in Modules) m.Dispose();
    }
}
