namespace NotebookTrainer.ModelConfigs;

/// <summary>The fields of diffusers' <c>vae/config.json</c>. The VAE downsamples by 2^(blocks − 1).</summary>
public sealed record AutoencoderKLConfig
{
    public int InChannels { get; init; } = 3;
    public int OutChannels { get; init; } = 3;
    public int[] BlockOutChannels { get; init; } = [128, 256, 512, 512];
    public int LayersPerBlock { get; init; } = 2;
    public int LatentChannels { get; init; } = 4;
    public int NormNumGroups { get; init; } = 32;
    public int SampleSize { get; init; } = 512;
    public double ScalingFactor { get; init; } = 0.18215;

    public int DownscaleFactor => 1 << (BlockOutChannels.Length - 1);

    public static AutoencoderKLConfig StableDiffusion { get; } = new();

    public static AutoencoderKLConfig Tiny { get; } = new()
    {
        BlockOutChannels = [32, 64],
        LayersPerBlock = 1,
        NormNumGroups = 8,
        SampleSize = 64,
    };

    public static AutoencoderKLConfig Load(string file) => From(ConfigJson.Load(file));

    /// <param name="source">The file (or description) named in error messages.</param>
    public static AutoencoderKLConfig FromJson(string json, string source) => From(ConfigJson.Parse(json, source));

    /// <summary>A checkpoint's config (a diffusers folder's, or the built-in defaults of a single file): the keys that decide parameter names and shapes must be given.</summary>
    /// <param name="source">The file (or description) named in error messages.</param>
    public static AutoencoderKLConfig FromJson(System.Text.Json.Nodes.JsonObject json, string source) => From(ConfigJson.From(json, source).Requiring(ShapeKeys));

    static readonly string[] ShapeKeys = ["block_out_channels", "layers_per_block", "in_channels", "out_channels", "latent_channels"];

    static AutoencoderKLConfig From(ConfigJson json)
    {
        var d = new AutoencoderKLConfig();
        var blockOut = json.Ints("block_out_channels", d.BlockOutChannels);
        foreach (var key in new[] { "down_block_types", "up_block_types" })
        {
            var types = json.Strings(key, []);
            if (types.Length != 0 && types.Length != blockOut.Length)
                throw json.Invalid(key, $"{types.Length} block types for {blockOut.Length} block_out_channels; they must have the same length.");
            if (types.Any(t => t is not ("DownEncoderBlock2D" or "UpDecoderBlock2D")))
                throw json.Invalid(key, "only DownEncoderBlock2D / UpDecoderBlock2D are supported (the Stable Diffusion VAE).");
        }
        var config = new AutoencoderKLConfig
        {
            InChannels = json.Int("in_channels", d.InChannels),
            OutChannels = json.Int("out_channels", d.OutChannels),
            BlockOutChannels = blockOut,
            LayersPerBlock = json.Int("layers_per_block", d.LayersPerBlock),
            LatentChannels = json.Int("latent_channels", d.LatentChannels),
            NormNumGroups = json.Int("norm_num_groups", d.NormNumGroups),
            SampleSize = json.Int("sample_size", d.SampleSize),
            ScalingFactor = json.Double("scaling_factor", d.ScalingFactor),
        };
        if (blockOut.Any(c => c % config.NormNumGroups != 0))
            throw json.Invalid("norm_num_groups", $"every block_out_channels value must be divisible by {config.NormNumGroups}.");
        return config;
    }

    public string ToJson() => ConfigJson.Write(new()
    {
        ["_class_name"] = "AutoencoderKL",
        ["in_channels"] = InChannels,
        ["out_channels"] = OutChannels,
        ["down_block_types"] = Enumerable.Repeat("DownEncoderBlock2D", BlockOutChannels.Length).ToArray(),
        ["up_block_types"] = Enumerable.Repeat("UpDecoderBlock2D", BlockOutChannels.Length).ToArray(),
        ["block_out_channels"] = BlockOutChannels,
        ["layers_per_block"] = LayersPerBlock,
        ["act_fn"] = "silu",
        ["latent_channels"] = LatentChannels,
        ["norm_num_groups"] = NormNumGroups,
        ["sample_size"] = SampleSize,
        ["scaling_factor"] = ScalingFactor,
    });
}
