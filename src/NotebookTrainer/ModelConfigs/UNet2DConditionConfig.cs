namespace NotebookTrainer.ModelConfigs;

/// <summary>
/// The fields of diffusers' <c>unet/config.json</c> that Stable Diffusion 1.x/2.x and SDXL U-Nets use.
/// <see cref="AttentionHeads"/> is diffusers' <c>attention_head_dim</c>, which for these models is really the
/// number of heads per block (a historical misnomer diffusers keeps for compatibility).
/// </summary>
public sealed record UNet2DConditionConfig
{
    public int SampleSize { get; init; } = 64;
    public int InChannels { get; init; } = 4;
    public int OutChannels { get; init; } = 4;
    public bool FlipSinToCos { get; init; } = true;
    public int FreqShift { get; init; }
    public string[] DownBlockTypes { get; init; } = ["CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "DownBlock2D"];
    public string[] UpBlockTypes { get; init; } = ["UpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D"];
    public int[] BlockOutChannels { get; init; } = [320, 640, 1280, 1280];
    public int LayersPerBlock { get; init; } = 2;
    public int DownsamplePadding { get; init; } = 1;
    public int NormNumGroups { get; init; } = 32;
    public double NormEps { get; init; } = 1e-5;
    public int CrossAttentionDim { get; init; } = 768;
    public int[] AttentionHeads { get; init; } = [8, 8, 8, 8];
    public bool UseLinearProjection { get; init; }
    public bool UpcastAttention { get; init; }

    /// <summary>
    /// Transformer blocks per attention of each down block (null: one each, as in SD 1/2). diffusers gives the mid
    /// block the last entry and up block i the reversed list's entry (SDXL: [1, 2, 10]).
    /// </summary>
    public int[]? TransformerLayersPerBlock { get; init; }

    /// <summary>
    /// "text_time" (SDXL): the time embedding also gets add_embedding(concat(pooled text embedding,
    /// add_time_proj(the six size and crop numbers)))); null for SD 1/2.
    /// </summary>
    public string? AdditionEmbedType { get; init; }

    /// <summary>Sinusoidal features per size/crop number (SDXL: 256).</summary>
    public int? AdditionTimeEmbedDim { get; init; }

    /// <summary>add_embedding's input width: pooled text embedding + 6 · addition_time_embed_dim (SDXL: 1280 + 1536 = 2816).</summary>
    public int? ProjectionClassEmbeddingsInputDim { get; init; }

    public bool HasTextTimeEmbedding => AdditionEmbedType == "text_time";

    /// <summary>The pooled text embedding's width that <see cref="AdditionEmbedType"/> "text_time" expects.</summary>
    public int TextEmbedsDim => (ProjectionClassEmbeddingsInputDim ?? 0) - 6 * (AdditionTimeEmbedDim ?? 0);

    public int TransformerDepth(int downBlock) => TransformerLayersPerBlock?[downBlock] ?? 1;
    public bool DownBlockHasAttention(int i) => DownBlockTypes[i].StartsWith("CrossAttn", StringComparison.Ordinal);
    public bool UpBlockHasAttention(int i) => UpBlockTypes[i].StartsWith("CrossAttn", StringComparison.Ordinal);

    public static UNet2DConditionConfig StableDiffusion15 { get; } = new();

    public static UNet2DConditionConfig StableDiffusion2Base { get; } = new()
    {
        CrossAttentionDim = 1024,
        AttentionHeads = [5, 10, 20, 20],
        UseLinearProjection = true,
    };

    public static UNet2DConditionConfig StableDiffusion2V768 { get; } = StableDiffusion2Base with { SampleSize = 96, UpcastAttention = true };

    /// <summary>stabilityai/stable-diffusion-xl-base-1.0's unet/config.json.</summary>
    public static UNet2DConditionConfig StableDiffusionXL { get; } = new()
    {
        SampleSize = 128,
        DownBlockTypes = ["DownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D"],
        UpBlockTypes = ["CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "UpBlock2D"],
        BlockOutChannels = [320, 640, 1280],
        CrossAttentionDim = 2048,
        AttentionHeads = [5, 10, 20],
        UseLinearProjection = true,
        TransformerLayersPerBlock = [1, 2, 10],
        AdditionEmbedType = "text_time",
        AdditionTimeEmbedDim = 256,
        ProjectionClassEmbeddingsInputDim = 2816,
    };

    /// <summary>
    /// SDXL's structure at toy widths (for tests): three blocks, no attention in the first, two transformer blocks per
    /// attention in the last (so in the mid block and the first up block), text_time conditioning with a pooled width of 32.
    /// </summary>
    public static UNet2DConditionConfig TinyXL { get; } = StableDiffusionXL with
    {
        SampleSize = 16,
        BlockOutChannels = [16, 32, 32],
        NormNumGroups = 8,
        CrossAttentionDim = 48,
        AttentionHeads = [1, 2, 4],
        TransformerLayersPerBlock = [1, 1, 2],
        AdditionTimeEmbedDim = 8,
        ProjectionClassEmbeddingsInputDim = 32 + 6 * 8,
    };

    public static UNet2DConditionConfig Tiny { get; } = new()
    {
        SampleSize = 32,
        DownBlockTypes = ["CrossAttnDownBlock2D", "DownBlock2D"],
        UpBlockTypes = ["UpBlock2D", "CrossAttnUpBlock2D"],
        BlockOutChannels = [32, 64],
        LayersPerBlock = 1,
        NormNumGroups = 8,
        CrossAttentionDim = 64,
        AttentionHeads = [2, 2],
    };

    public static UNet2DConditionConfig Load(string file) => From(ConfigJson.Load(file));

    /// <param name="source">The file (or description) named in error messages.</param>
    public static UNet2DConditionConfig FromJson(string json, string source) => From(ConfigJson.Parse(json, source));

    /// <summary>A checkpoint's config (a diffusers folder's, or the built-in defaults of a single file): the keys that decide parameter names and shapes must be given.</summary>
    /// <param name="source">The file (or description) named in error messages.</param>
    public static UNet2DConditionConfig FromJson(System.Text.Json.Nodes.JsonObject json, string source) => From(ConfigJson.From(json, source).Requiring(ShapeKeys));

    static readonly string[] ShapeKeys = ["block_out_channels", "down_block_types", "up_block_types", "layers_per_block", "in_channels", "out_channels", "cross_attention_dim"];

    static UNet2DConditionConfig From(ConfigJson json)
    {
        var d = new UNet2DConditionConfig();
        var blockOut = json.Ints("block_out_channels", d.BlockOutChannels);
        var downTypes = json.Strings("down_block_types", d.DownBlockTypes);
        var upTypes = json.Strings("up_block_types", d.UpBlockTypes);
        if (downTypes.Length != blockOut.Length || upTypes.Length != blockOut.Length)
            throw json.Invalid("down_block_types", $"{downTypes.Length} down and {upTypes.Length} up block types for {blockOut.Length} block_out_channels; they must have the same length.");
        foreach (var t in downTypes)
            if (t is not ("CrossAttnDownBlock2D" or "DownBlock2D"))
                throw json.Invalid("down_block_types", $"'{t}' is not supported; Stable Diffusion 1.x/2.x and SDXL use CrossAttnDownBlock2D and DownBlock2D.");
        foreach (var t in upTypes)
            if (t is not ("CrossAttnUpBlock2D" or "UpBlock2D"))
                throw json.Invalid("up_block_types", $"'{t}' is not supported; Stable Diffusion 1.x/2.x and SDXL use CrossAttnUpBlock2D and UpBlock2D.");
        // Newer diffusers configs may carry num_attention_heads; when set it wins over attention_head_dim.
        var heads = json.IntOrInts("num_attention_heads", blockOut.Length) ?? json.IntOrInts("attention_head_dim", blockOut.Length) ?? Enumerable.Repeat(8, blockOut.Length).ToArray();
        var config = new UNet2DConditionConfig
        {
            SampleSize = json.Int("sample_size", d.SampleSize),
            InChannels = json.Int("in_channels", d.InChannels),
            OutChannels = json.Int("out_channels", d.OutChannels),
            FlipSinToCos = json.Bool("flip_sin_to_cos", d.FlipSinToCos),
            FreqShift = json.Int("freq_shift", d.FreqShift),
            DownBlockTypes = downTypes,
            UpBlockTypes = upTypes,
            BlockOutChannels = blockOut,
            LayersPerBlock = json.Int("layers_per_block", d.LayersPerBlock),
            DownsamplePadding = json.Int("downsample_padding", d.DownsamplePadding),
            NormNumGroups = json.Int("norm_num_groups", d.NormNumGroups),
            NormEps = json.Double("norm_eps", d.NormEps),
            CrossAttentionDim = json.Int("cross_attention_dim", d.CrossAttentionDim),
            AttentionHeads = heads,
            UseLinearProjection = json.Bool("use_linear_projection", d.UseLinearProjection),
            UpcastAttention = json.Bool("upcast_attention", d.UpcastAttention),
            TransformerLayersPerBlock = json.IntOrInts("transformer_layers_per_block", blockOut.Length),
            AdditionEmbedType = json.OptionalString("addition_embed_type"),
            AdditionTimeEmbedDim = json.OptionalInt("addition_time_embed_dim"),
            ProjectionClassEmbeddingsInputDim = json.OptionalInt("projection_class_embeddings_input_dim"),
        };
        if (config.AdditionEmbedType is { } added && added != "text_time")
            throw json.Invalid("addition_embed_type", $"'{added}' is not supported; SDXL uses \"text_time\" and SD 1.x/2.x leave it null.");
        if (config.HasTextTimeEmbedding)
        {
            if (config.AdditionTimeEmbedDim is not > 0)
                throw json.Invalid("addition_time_embed_dim", "addition_embed_type \"text_time\" needs a positive addition_time_embed_dim (SDXL: 256).");
            if (config.TextEmbedsDim <= 0)
                throw json.Invalid("projection_class_embeddings_input_dim", $"addition_embed_type \"text_time\" needs projection_class_embeddings_input_dim = pooled text width + 6 · {config.AdditionTimeEmbedDim} (SDXL: 2816).");
        }
        for (var i = 0; i < blockOut.Length; i++)
        {
            if (blockOut[i] % heads[i] != 0)
                throw json.Invalid("attention_head_dim", $"block {i} has {blockOut[i]} channels, not divisible by {heads[i]} heads.");
            if (blockOut[i] % config.NormNumGroups != 0)
                throw json.Invalid("norm_num_groups", $"block {i} has {blockOut[i]} channels, not divisible by {config.NormNumGroups} groups.");
        }
        return config;
    }

    public string ToJson()
    {
        var values = new Dictionary<string, object>
        {
            ["_class_name"] = "UNet2DConditionModel",
            ["sample_size"] = SampleSize,
            ["in_channels"] = InChannels,
            ["out_channels"] = OutChannels,
            ["flip_sin_to_cos"] = FlipSinToCos,
            ["freq_shift"] = FreqShift,
            ["down_block_types"] = DownBlockTypes,
            ["up_block_types"] = UpBlockTypes,
            ["block_out_channels"] = BlockOutChannels,
            ["layers_per_block"] = LayersPerBlock,
            ["downsample_padding"] = DownsamplePadding,
            ["mid_block_scale_factor"] = 1,
            ["act_fn"] = "silu",
            ["norm_num_groups"] = NormNumGroups,
            ["norm_eps"] = NormEps,
            ["cross_attention_dim"] = CrossAttentionDim,
            ["attention_head_dim"] = AttentionHeads,
            ["use_linear_projection"] = UseLinearProjection,
            ["upcast_attention"] = UpcastAttention,
        };
        if (TransformerLayersPerBlock is { } depth) values["transformer_layers_per_block"] = depth;
        if (AdditionEmbedType is { } added)
        {
            values["addition_embed_type"] = added;
            values["addition_time_embed_dim"] = AdditionTimeEmbedDim!;
            values["projection_class_embeddings_input_dim"] = ProjectionClassEmbeddingsInputDim!;
        }
        return ConfigJson.Write(values);
    }
}
