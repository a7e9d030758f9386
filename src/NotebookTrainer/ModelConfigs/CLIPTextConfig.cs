namespace NotebookTrainer.ModelConfigs;

/// <summary>The fields of transformers' <c>text_encoder/config.json</c> (CLIPTextConfig; SDXL's <c>text_encoder_2</c> too).</summary>
public sealed record CLIPTextConfig
{
    public int VocabSize { get; init; } = 49408;
    public int HiddenSize { get; init; } = 768;
    public int IntermediateSize { get; init; } = 3072;
    public int NumHiddenLayers { get; init; } = 12;
    public int NumAttentionHeads { get; init; } = 12;
    public int MaxPositionEmbeddings { get; init; } = 77;
    /// <summary>"quick_gelu" (SD 1.x, OpenAI CLIP) or "gelu" (SD 2.x, OpenCLIP).</summary>
    public string HiddenAct { get; init; } = "quick_gelu";
    public double LayerNormEps { get; init; } = 1e-5;
    public int BosTokenId { get; init; } = 49406;
    public int EosTokenId { get; init; } = 49407;
    /// <summary>Output width of CLIPTextModelWithProjection's text_projection (SDXL's pooled embedding: 1280).</summary>
    public int ProjectionDim { get; init; } = 768;

    public static CLIPTextConfig StableDiffusion1 { get; } = new();

    /// <summary>OpenCLIP ViT-H/14 text tower without its last layer, as diffusers ships it for SD 2.x.</summary>
    public static CLIPTextConfig StableDiffusion2 { get; } = new()
    {
        HiddenSize = 1024,
        IntermediateSize = 4096,
        NumHiddenLayers = 23,
        NumAttentionHeads = 16,
        HiddenAct = "gelu",
    };

    /// <summary>SDXL's text_encoder_2: OpenCLIP ViT-bigG/14's text tower, all 32 layers, with its projection.</summary>
    public static CLIPTextConfig StableDiffusionXL2 { get; } = new()
    {
        HiddenSize = 1280,
        IntermediateSize = 5120,
        NumHiddenLayers = 32,
        NumAttentionHeads = 20,
        HiddenAct = "gelu",
        ProjectionDim = 1280,
    };

    public static CLIPTextConfig Load(string file) => From(ConfigJson.Load(file));

    /// <param name="source">The file (or description) named in error messages.</param>
    public static CLIPTextConfig FromJson(string json, string source) => From(ConfigJson.Parse(json, source));

    /// <summary>A checkpoint's config (a diffusers folder's, or the built-in defaults of a single file): the keys that decide parameter names and shapes must be given.</summary>
    /// <param name="source">The file (or description) named in error messages.</param>
    public static CLIPTextConfig FromJson(System.Text.Json.Nodes.JsonObject json, string source) => From(ConfigJson.From(json, source).Requiring(ShapeKeys));

    static readonly string[] ShapeKeys = ["hidden_size", "intermediate_size", "num_hidden_layers", "vocab_size", "max_position_embeddings"];

    static CLIPTextConfig From(ConfigJson json)
    {
        var d = new CLIPTextConfig();
        var config = new CLIPTextConfig
        {
            VocabSize = json.Int("vocab_size", d.VocabSize),
            HiddenSize = json.Int("hidden_size", d.HiddenSize),
            IntermediateSize = json.Int("intermediate_size", d.IntermediateSize),
            NumHiddenLayers = json.Int("num_hidden_layers", d.NumHiddenLayers),
            NumAttentionHeads = json.Int("num_attention_heads", d.NumAttentionHeads),
            MaxPositionEmbeddings = json.Int("max_position_embeddings", d.MaxPositionEmbeddings),
            HiddenAct = json.String("hidden_act", d.HiddenAct),
            LayerNormEps = json.Double("layer_norm_eps", d.LayerNormEps),
            BosTokenId = json.Int("bos_token_id", d.BosTokenId),
            EosTokenId = json.Int("eos_token_id", d.EosTokenId),
            ProjectionDim = json.Int("projection_dim", d.ProjectionDim),
        };
        if (config.HiddenAct is not ("quick_gelu" or "gelu"))
            throw json.Invalid("hidden_act", $"'{config.HiddenAct}' is not supported; use \"quick_gelu\" (SD 1.x) or \"gelu\" (SD 2.x).");
        if (config.HiddenSize % config.NumAttentionHeads != 0)
            throw json.Invalid("num_attention_heads", $"hidden_size {config.HiddenSize} is not divisible by {config.NumAttentionHeads} heads.");
        return config;
    }

    /// <param name="architecture">"CLIPTextModel", or "CLIPTextModelWithProjection" for SDXL's text_encoder_2.</param>
    public string ToJson(string architecture = "CLIPTextModel") => ConfigJson.Write(new()
    {
        ["architectures"] = new[] { architecture },
        ["model_type"] = "clip_text_model",
        ["vocab_size"] = VocabSize,
        ["hidden_size"] = HiddenSize,
        ["intermediate_size"] = IntermediateSize,
        ["num_hidden_layers"] = NumHiddenLayers,
        ["num_attention_heads"] = NumAttentionHeads,
        ["max_position_embeddings"] = MaxPositionEmbeddings,
        ["hidden_act"] = HiddenAct,
        ["layer_norm_eps"] = LayerNormEps,
        ["bos_token_id"] = BosTokenId,
        ["eos_token_id"] = EosTokenId,
        ["projection_dim"] = ProjectionDim,
    });
}
