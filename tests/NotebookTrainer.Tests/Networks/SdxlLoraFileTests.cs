using NotebookTrainer.Models;
using NotebookTrainer.Models.Clip;
using NotebookTrainer.ModelConfigs;
using NotebookTrainer.Models.UNet;
using NotebookTrainer.Networks;
using NotebookTrainer.SafeTensors;
using static TorchSharp.torch;

namespace NotebookTrainer.Tests.Networks;

/// <summary>SDXL LoRA / LoCon / LoHa files: kohya's SDXL names and metadata, loaded back onto a tiny SDXL-architecture model.</summary>
[Collection(TorchRandom.Collection)]
public sealed class SdxlLoraFileTests : IDisposable
{
    readonly string dir = Directory.CreateTempSubdirectory("ntrain-sdxl-lora-").FullName;

    public void Dispose() => Directory.Delete(dir, recursive: true);

    static readonly CLIPTextConfig Text1 = new() { VocabSize = 100, HiddenSize = 16, IntermediateSize = 32, NumHiddenLayers = 2, NumAttentionHeads = 2, BosTokenId = 98, EosTokenId = 99 };
    /// <summary>16 + 32 = TinyXL's cross-attention width 48; the projection gives its pooled width 32.</summary>
    static readonly CLIPTextConfig Text2 = Text1 with { HiddenSize = 32, HiddenAct = "gelu", ProjectionDim = 32 };

    sealed record TinySdxl(UNet2DConditionModel Unet, CLIPTextModel Te1, CLIPTextModelWithProjection Te2) : IDisposable
    {
        public static TinySdxl Create(int seed)
        {
            manual_seed(seed);
            var models = new TinySdxl(new UNet2DConditionModel(UNet2DConditionConfig.TinyXL), new CLIPTextModel(Text1), new CLIPTextModelWithProjection(Text2));
            models.Unet.eval();
            models.Te1.eval();
            models.Te2.eval();
            return models;
        }

        public Tensor Run(Tensor latents, Tensor ids)
        {
            using var _ = no_grad();
            using var scope = NewDisposeScope();
            var (context, pooled) = TextEncoding.EncodeSdxl(Te1, Te2, ids, ids);
            var timeIds = tensor(new float[] { 24, 16, 0, 0, 24, 16 }).expand(latents.shape[0], 6);
            return Unet.forward(latents, tensor(new long[] { 300, 700 }), context, pooled, timeIds).MoveToOuterDisposeScope();
        }

        public void Dispose()
        {
            Unet.Dispose();
            Te1.Dispose();
            Te2.Dispose();
        }
    }

    static (Tensor Latents, Tensor Ids) Inputs()
    {
        manual_seed(11);
        var ids = full(2, 77, 99L, ScalarType.Int64);
        ids[0, 0] = 98; ids[0, 1] = 5; ids[0, 2] = 6;
        ids[1, 0] = 98; ids[1, 1] = 7;
        return (randn(2, 4, 16, 16), ids);
    }

    [Theory]
    [InlineData("networks.lora", new string[0], NetworkKind.LoRA)]
    [InlineData("networks.lora", new[] { "conv_dim=2", "conv_alpha=1" }, NetworkKind.LoCon)]
    [InlineData("lycoris.kohya", new[] { "algo=loha", "conv_dim=2", "conv_alpha=1" }, NetworkKind.LoHa)]
    public void An_SDXL_network_saves_with_kohyas_SDXL_names_and_metadata_and_loads_back_with_nothing_unmatched(string module, string[] args, NetworkKind kind)
    {
        var (latents, ids) = Inputs();
        using var trainedOn = TinySdxl.Create(1);
        using var network = LoraNetwork.Create(trainedOn.Unet, trainedOn.Te1, NetworkOptions.FromKohya(module, 4, 2, args), textEncoder2: trainedOn.Te2);
        Assert.True(network.IsSdxl);
        using (no_grad()) foreach (var p in network.Parameters()) p.copy_(randn_like(p) * 0.2);
        network.Attach();
        using var expected = trainedOn.Run(latents, ids);
        network.Detach();
        using var baseline = trainedOn.Run(latents, ids);
        Assert.False(expected.allclose(baseline, rtol: 1e-3, atol: 1e-4));

        var path = Path.Combine(dir, "sdxl.safetensors");
        LoraFile.Save(path, network, SavePrecision.Float, new Dictionary<string, string> { ["ss_output_name"] = "sdxl" });
        using (var file = SafeTensorsFile.Open(path))
        {
            Assert.Equal("sdxl_base_v1-0", file.Metadata["ss_base_model_version"]);
            Assert.Equal("False", file.Metadata["ss_v2"]);
            Assert.All(file.Names, n => Assert.Matches(@"^lora_(unet_(input_blocks|middle_block|output_blocks)_|te1_text_model_encoder_layers_|te2_text_model_encoder_layers_)", n));
            Assert.Contains(file.Names, n => n.StartsWith("lora_unet_middle_block_1_transformer_blocks_1_attn2_to_k.", StringComparison.Ordinal));
            Assert.Contains(file.Names, n => n.StartsWith("lora_te2_text_model_encoder_layers_1_mlp_fc2.", StringComparison.Ordinal));
            Assert.Equal(kind != NetworkKind.LoRA, file.Names.Any(n => n.StartsWith("lora_unet_input_blocks_3_0_op.", StringComparison.Ordinal)));
        }

        using var fresh = TinySdxl.Create(1);
        var (loaded, metadata) = LoraFile.Load(path, fresh.Unet, fresh.Te1, textEncoder2: fresh.Te2);
        using (loaded)
        {
            Assert.Equal("sdxl", metadata["ss_output_name"]);
            Assert.Empty(loaded.UnmatchedNames);
            Assert.True(loaded.IsSdxl);
            Assert.Equal(kind, loaded.Options.Kind);
            Assert.Equal(network.Modules.Select(m => m.Name).Order(StringComparer.Ordinal), loaded.Modules.Select(m => m.Name).Order(StringComparer.Ordinal));
            loaded.Attach();
            using (var attached = fresh.Run(latents, ids))
                Assert.True(attached.allclose(expected, rtol: 1e-4, atol: 1e-5));
            loaded.Merge(1f);
            using (var merged = fresh.Run(latents, ids))
                Assert.True(merged.allclose(expected, rtol: 1e-3, atol: 1e-4));
            loaded.Unmerge();
            using (var unmerged = fresh.Run(latents, ids))
                Assert.True(unmerged.allclose(baseline, rtol: 1e-4, atol: 1e-5));
        }
    }

    [Fact]
    public void An_SD1_LoRA_on_SDXL_and_an_SDXL_LoRA_without_the_second_text_encoder_are_told_apart()
    {
        using var models = TinySdxl.Create(2);
        var sd1 = new Dictionary<string, Tensor>
        {
            ["lora_unet_down_blocks_1_attentions_0_proj_in.lora_down.weight"] = zeros(4, 32),
            ["lora_unet_down_blocks_1_attentions_0_proj_in.lora_up.weight"] = zeros(32, 4),
            ["lora_te_text_model_encoder_layers_0_mlp_fc1.lora_down.weight"] = zeros(4, 16),
            ["lora_te_text_model_encoder_layers_0_mlp_fc1.lora_up.weight"] = zeros(32, 4),
        };
        var error = Assert.Throws<ArgumentException>(() => LoraNetwork.FromStateDict(models.Unet, models.Te1, sd1, "sd1.safetensors", textEncoder2: models.Te2));
        Assert.Contains("sd1.safetensors", error.Message);
        Assert.Contains("lora_unet_down_blocks_1_attentions_0_proj_in", error.Message);

        using var network = LoraNetwork.Create(models.Unet, models.Te1, new NetworkOptions { Dim = 2 }, textEncoder2: models.Te2);
        using var unetOnly = LoraNetwork.FromStateDict(models.Unet, null, network.StateDict(), "sdxl.safetensors");
        Assert.Equal(network.UnetModules.Count, unetOnly.UnetModules.Count);
        Assert.Equal(network.TextEncoderModules.Count, unetOnly.UnmatchedNames.Count);
    }
}
