using NotebookTrainer.ModelConfigs;
using NotebookTrainer.Models;
using NotebookTrainer.Models.Clip;
using TorchSharp;
using static TorchSharp.torch;

namespace NotebookTrainer.Tests.Models;

/// <summary>SDXL's second text encoder (CLIPTextModelWithProjection) and the conditioning both encoders make.</summary>
public class SdxlTextEncoderTests
{
    static readonly CLIPTextConfig Tiny1 = new() { VocabSize = 100, HiddenSize = 16, IntermediateSize = 37, NumHiddenLayers = 3, NumAttentionHeads = 2, BosTokenId = 98, EosTokenId = 99 };
    static readonly CLIPTextConfig Tiny2 = Tiny1 with { HiddenSize = 24, NumHiddenLayers = 3, HiddenAct = "gelu", ProjectionDim = 12 };

    [Fact]
    public void The_bigG_text_encoder_has_transformers_keys_and_parameter_count()
    {
        using var text = new CLIPTextModelWithProjection(CLIPTextConfig.StableDiffusionXL2, device: device("meta"));
        var shapes = text.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.shape);
        Assert.Equal(694_659_840, text.parameters().Sum(p => p.numel()));
        Assert.Equal(new long[] { 1280, 1280 }, shapes["text_projection.weight"]);
        Assert.DoesNotContain("text_projection.bias", shapes.Keys);
        Assert.Equal(new long[] { 5120, 1280 }, shapes["text_model.encoder.layers.31.mlp.fc1.weight"]);
        Assert.DoesNotContain(shapes.Keys, k => k.Contains("layers.32.", StringComparison.Ordinal));
    }

    static Tensor Ids(params int[][] rows)
    {
        var ids = full(rows.Length, 77, 0L, ScalarType.Int64);
        for (var r = 0; r < rows.Length; r++)
            for (var i = 0; i < rows[r].Length; i++) ids[r, i] = rows[r][i];
        return ids;
    }

    [Fact]
    public void The_pooled_embedding_is_the_projected_final_state_at_the_EOS_token()
    {
        manual_seed(3);
        using var text = new CLIPTextModelWithProjection(Tiny2);
        text.eval();
        using var _ = no_grad();
        // Same prompt; row 1 pads with EOS instead of 0. The causal mask keeps the EOS state the same, and argmax takes the first EOS.
        var ids = Ids([98, 5, 6, 7, 99], [98, 5, 6, 7, .. Enumerable.Repeat(99, 73)]);
        var (pooled, output) = text.forward(ids);
        using (output)
        {
            Assert.Equal(new long[] { 2, 12 }, pooled.shape);
            Assert.True(allclose(pooled[0], pooled[1], 1e-5, 1e-5));
            var norm = text.text_model.final_layer_norm;
            Assert.True(allclose(norm.forward(output.HiddenStates[^1]), output.LastHiddenState));
            Assert.True(allclose(pooled[0], text.text_projection.forward(output.LastHiddenState[0, 4]), 1e-5, 1e-5));
        }
        var (shorter, shorterOutput) = text.forward(Ids([98, 5, 6, 99]));
        shorterOutput.Dispose();
        Assert.False(allclose(pooled[0], shorter[0], 1e-3, 1e-3));
    }

    [Fact]
    public void SDXL_conditioning_joins_both_penultimate_layers_without_the_final_norm()
    {
        manual_seed(4);
        using var text1 = new CLIPTextModel(Tiny1);
        using var text2 = new CLIPTextModelWithProjection(Tiny2);
        using var _ = no_grad();
        var ids = Ids([98, 10, 11, 99], [98, 12, 99]);
        var (context, pooled) = TextEncoding.EncodeSdxl(text1, text2, ids, ids);
        Assert.Equal(new long[] { 2, 77, 16 + 24 }, context.shape);
        Assert.Equal(new long[] { 2, 12 }, pooled.shape);
        using var all1 = text1.forward(ids);
        Assert.True(context[.., .., ..16].equal(all1.HiddenStates[2]).all().item<bool>());
        Assert.False(allclose(context[.., .., ..16], text1.text_model.final_layer_norm.forward(all1.HiddenStates[2]), 1e-2, 1e-2));
        using var all2 = text2.forward(ids, 3);
        Assert.True(context[.., .., 16..].equal(all2.HiddenStates[2]).all().item<bool>());
        Assert.True(TextEncoding.HiddenState(text1, ids, 0).equal(all1.HiddenStates[0]).all().item<bool>());
        Assert.Throws<ArgumentOutOfRangeException>(() => TextEncoding.HiddenState(text1, ids, -5));
    }

    [Fact]
    public void Two_token_windows_are_encoded_apart_joined_like_kohya_and_pooled_from_the_first()
    {
        manual_seed(5);
        using var text1 = new CLIPTextModel(Tiny1);
        using var text2 = new CLIPTextModelWithProjection(Tiny2);
        using var _ = no_grad();
        var first = Ids([98, 10, 11, 99], [98, 12, 99]);
        var second = Ids([98, 13, 99], [98, 99]);
        var (context, pooled) = TextEncoding.EncodeSdxl(text1, text2, cat([first, second], 1), cat([first, second], 1));
        Assert.Equal(new long[] { 2, 75 * 2 + 2, 16 + 24 }, context.shape);
        var (context1, pooled1) = TextEncoding.EncodeSdxl(text1, text2, first, first);
        var (context2, _) = TextEncoding.EncodeSdxl(text1, text2, second, second);
        Assert.True(allclose(pooled, pooled1, 1e-6, 1e-6));
        Assert.True(allclose(context[.., ..76], context1[.., ..76], 1e-6, 1e-6));
        Assert.True(allclose(context[.., 76..151], context2[.., 1..76], 1e-6, 1e-6));
        Assert.True(allclose(context[.., ^1], context2[.., ^1], 1e-6, 1e-6));
        Assert.Throws<ArgumentException>(() => TextEncoding.EncodeSdxl(text1, text2, cat([first, second], 1), first));
    }

    [Fact]
    public void The_projection_width_is_read_and_written_with_the_config()
    {
        var back = CLIPTextConfig.FromJson(CLIPTextConfig.StableDiffusionXL2.ToJson("CLIPTextModelWithProjection"), "text_encoder_2/config.json");
        Assert.Equal(CLIPTextConfig.StableDiffusionXL2, back);
    }
}
