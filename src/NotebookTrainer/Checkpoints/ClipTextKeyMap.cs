using NotebookTrainer.ModelConfigs;

namespace NotebookTrainer.Checkpoints;

/// <summary>
/// Text-encoder names. SD1 stores a Hugging Face CLIPTextModel under <c>cond_stage_model.transformer.</c> (same
/// inner names, <c>text_model.</c> sometimes missing); SD2 stores an OpenCLIP text tower under
/// <c>cond_stage_model.model.</c> with fused q/k/v and one more layer than diffusers keeps (SD2 uses the penultimate
/// layer, so diffusers' config has <c>num_hidden_layers</c> one lower and the last block is carried unchanged).
/// SDXL (sgm layout) stores text encoder 1 the SD1 way under <c>conditioner.embedders.0.transformer.</c> and text encoder 2
/// in OpenCLIP naming under <c>conditioner.embedders.1.model.</c>, every layer kept, with <c>text_projection</c> as
/// [width, projection] (the transpose of transformers' Linear weight).
/// </summary>
public static class ClipTextKeyMap
{
    public const string HfPrefix = "cond_stage_model.transformer.";
    public const string OpenClipPrefix = "cond_stage_model.model.";
    public const string SdxlHfPrefix = "conditioner.embedders.0.transformer.";
    public const string SdxlOpenClipPrefix = "conditioner.embedders.1.model.";
    public const string PositionIds = "text_model.embeddings.position_ids";
    public const string TextProjection = "text_projection.weight";

    /// <summary>SD1 and SDXL's text encoder 1: the single file uses the diffusers names under the prefix.</summary>
    /// <param name="projection">Also map CLIPTextModelWithProjection's <c>text_projection.weight</c> (SDXL's text_encoder_2 folder).</param>
    public static List<KeyMapping> BuildHuggingFace(CLIPTextConfig config, string prefix = HfPrefix, string component = "text_encoder", bool projection = false)
    {
        var map = new KeyMapBuilder(component, prefix, "");
        foreach (var (name, shape) in HuggingFaceNames(config))
            map.Add(name, name, shape);
        if (projection) map.Add(TextProjection, TextProjection, [config.ProjectionDim, config.HiddenSize]);
        return map.Mappings;
    }

    /// <param name="projection">Map OpenCLIP's <c>text_projection</c> to transformers' (SDXL); SD2's is unused and carried through.</param>
    public static List<KeyMapping> BuildOpenClip(CLIPTextConfig config, string prefix = OpenClipPrefix, string component = "text_encoder", bool projection = false)
    {
        var map = new KeyMapBuilder(component, prefix, "text_model.");
        var c = config.HiddenSize;
        map.Add("token_embedding.weight", "embeddings.token_embedding.weight", [config.VocabSize, c]);
        map.Add("positional_embedding", "embeddings.position_embedding.weight", [config.MaxPositionEmbeddings, c]);
        for (var i = 0; i < config.NumHiddenLayers; i++)
        {
            var ldm = $"transformer.resblocks.{i}";
            var hf = $"encoder.layers.{i}";
            map.Norm($"{ldm}.ln_1", $"{hf}.layer_norm1", c);
            var q = 0;
            foreach (var part in new[] { "q_proj", "k_proj", "v_proj" })
            {
                map.Add($"{ldm}.attn.in_proj_weight", $"{hf}.self_attn.{part}.weight", [c, c], KeyTransform.QkvSplit, q);
                map.Add($"{ldm}.attn.in_proj_bias", $"{hf}.self_attn.{part}.bias", [c], KeyTransform.QkvSplit, q);
                q++;
            }
            map.WeightAndBias($"{ldm}.attn.out_proj", $"{hf}.self_attn.out_proj", [c, c]);
            map.Norm($"{ldm}.ln_2", $"{hf}.layer_norm2", c);
            map.WeightAndBias($"{ldm}.mlp.c_fc", $"{hf}.mlp.fc1", [config.IntermediateSize, c]);
            map.WeightAndBias($"{ldm}.mlp.c_proj", $"{hf}.mlp.fc2", [c, config.IntermediateSize]);
        }
        map.Norm("ln_final", "final_layer_norm", c);
        var mappings = map.Mappings;
        if (projection)
            mappings.Add(new KeyMapping(prefix + "text_projection", component, TextProjection, [config.ProjectionDim, c], KeyTransform.Transpose));
        return mappings;
    }

    static IEnumerable<(string Name, long[] Shape)> HuggingFaceNames(CLIPTextConfig config)
    {
        var c = config.HiddenSize;
        yield return ("text_model.embeddings.token_embedding.weight", [config.VocabSize, c]);
        yield return ("text_model.embeddings.position_embedding.weight", [config.MaxPositionEmbeddings, c]);
        for (var i = 0; i < config.NumHiddenLayers; i++)
        {
            var layer = $"text_model.encoder.layers.{i}";
            foreach (var projection in new[] { "k_proj", "v_proj", "q_proj", "out_proj" })
            {
                yield return ($"{layer}.self_attn.{projection}.weight", [c, c]);
                yield return ($"{layer}.self_attn.{projection}.bias", [c]);
            }
            yield return ($"{layer}.layer_norm1.weight", [c]);
            yield return ($"{layer}.layer_norm1.bias", [c]);
            yield return ($"{layer}.mlp.fc1.weight", [config.IntermediateSize, c]);
            yield return ($"{layer}.mlp.fc1.bias", [config.IntermediateSize]);
            yield return ($"{layer}.mlp.fc2.weight", [c, config.IntermediateSize]);
            yield return ($"{layer}.mlp.fc2.bias", [c]);
            yield return ($"{layer}.layer_norm2.weight", [c]);
            yield return ($"{layer}.layer_norm2.bias", [c]);
        }
        yield return ("text_model.final_layer_norm.weight", [c]);
        yield return ("text_model.final_layer_norm.bias", [c]);
    }
}
