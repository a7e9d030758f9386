using System.Globalization;

namespace NotebookTrainer.Networks;

public enum NetworkKind
{
    /// <summary>kohya networks.lora on Linear and 1×1 conv layers.</summary>
    LoRA,
    /// <summary>LoRA that also adapts the 3×3 convs of ResnetBlock2D/Downsample2D/Upsample2D (conv_dim).</summary>
    LoCon,
    /// <summary>LyCORIS Hadamard-product LoRA.</summary>
    LoHa,
}

/// <summary>What network to build: kohya's network_module, network_dim, network_alpha and network_args.</summary>
public sealed record NetworkOptions
{
    public NetworkKind Kind { get; init; } = NetworkKind.LoRA;
    public int Dim { get; init; } = 4;
    /// <summary>kohya default 1; 0 or null means alpha = dim.</summary>
    public double? Alpha { get; init; } = 1;
    /// <summary>Rank for k×k convs; null or 0 leaves them alone.</summary>
    public int? ConvDim { get; init; }
    public double? ConvAlpha { get; init; }
    public float Dropout { get; init; }
    public float RankDropout { get; init; }
    public float ModuleDropout { get; init; }
    public bool IncludeUnet { get; init; } = true;
    public bool IncludeTextEncoder { get; init; } = true;

    public bool AdaptsConvs => ConvDim is > 0;

    /// <summary>kohya's network_module string for this kind.</summary>
    public string NetworkModule => Kind == NetworkKind.LoHa ? "lycoris.kohya" : "networks.lora";

    /// <summary>The network_args as kohya records them in ss_network_args.</summary>
    public IReadOnlyDictionary<string, string> NetworkArgs
    {
        get
        {
            var args = new SortedDictionary<string, string>(StringComparer.Ordinal);
            if (Kind == NetworkKind.LoHa) args["algo"] = "loha";
            if (AdaptsConvs)
            {
                args["conv_dim"] = ConvDim!.Value.ToString(CultureInfo.InvariantCulture);
                args["conv_alpha"] = (ConvAlpha ?? 1).ToString(CultureInfo.InvariantCulture);
            }
            if (Dropout > 0) args["dropout"] = Dropout.ToString(CultureInfo.InvariantCulture);
            if (RankDropout > 0) args["rank_dropout"] = RankDropout.ToString(CultureInfo.InvariantCulture);
            if (ModuleDropout > 0) args["module_dropout"] = ModuleDropout.ToString(CultureInfo.InvariantCulture);
            return args;
        }
    }

    /// <summary>
    /// Reads kohya arguments. <paramref name="networkArgs"/> are the "key=value" strings of network_args;
    /// an unknown module or argument throws <see cref="ArgumentException"/> naming it and the accepted ones.
    /// </summary>
    public static NetworkOptions FromKohya(string networkModule, int dim, double? alpha, IEnumerable<string> networkArgs)
    {
        var args = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var raw in networkArgs)
        {
            var eq = raw.IndexOf('=');
            if (eq <= 0) throw new ArgumentException($"network_args entry \"{raw}\" is not key=value (e.g. \"conv_dim=4\").");
            args[raw[..eq].Trim()] = raw[(eq + 1)..].Trim().Trim('"');
        }
        var kind = networkModule switch
        {
            "networks.lora" => NetworkKind.LoRA,
            "lycoris.kohya" => args.GetValueOrDefault("algo", "lora") switch
            {
                "lora" or "locon" => NetworkKind.LoCon,
                "loha" => NetworkKind.LoHa,
                var other => throw new ArgumentException($"network_args algo=\"{other}\" is not supported; use algo=locon or algo=loha."),
            },
            _ => throw new ArgumentException($"network_module \"{networkModule}\" is not supported; use \"networks.lora\" (LoRA, LoCon with conv_dim) or \"lycoris.kohya\" (algo=locon|loha)."),
        };
        string[] known = ["algo", "conv_dim", "conv_alpha", "dropout", "rank_dropout", "module_dropout"];
        foreach (var key in args.Keys)
            if (!known.Contains(key))
                throw new ArgumentException($"network_args key \"{key}\" is not supported; known keys: {string.Join(", ", known)}.");
        int? convDim = args.TryGetValue("conv_dim", out var cd) ? ParseInt("conv_dim", cd) : null;
        double? convAlpha = args.TryGetValue("conv_alpha", out var ca) ? ParseDouble("conv_alpha", ca) : null;
        if (kind == NetworkKind.LoRA && convDim is > 0) kind = NetworkKind.LoCon;
        return new NetworkOptions
        {
            Kind = kind,
            Dim = dim,
            Alpha = alpha,
            ConvDim = convDim,
            ConvAlpha = convDim is > 0 ? convAlpha ?? 1 : null,
            Dropout = args.TryGetValue("dropout", out var d) ? (float)ParseDouble("dropout", d) : 0,
            RankDropout = args.TryGetValue("rank_dropout", out var rd) ? (float)ParseDouble("rank_dropout", rd) : 0,
            ModuleDropout = args.TryGetValue("module_dropout", out var md) ? (float)ParseDouble("module_dropout", md) : 0,
        };
    }

    static int ParseInt(string key, string value) => int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v)
        ? v : throw new ArgumentException($"network_args {key}=\"{value}\" is not an integer.");

    static double ParseDouble(string key, string value) => double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var v)
        ? v : throw new ArgumentException($"network_args {key}=\"{value}\" is not a number.");
}
