using NotebookTrainer.Networks;
using TorchSharp;
using static TorchSharp.torch;

namespace NotebookTrainer.Tests.Networks;

[Collection(TorchRandom.Collection)]
public class LoraNetworkTests
{
    static (ToyUNet Unet, ToyTextEncoder Te, Tensor X, Tensor T, Tensor Tokens) Setup(int seed = 1)
    {
        manual_seed(seed);
        var unet = new ToyUNet();
        var te = new ToyTextEncoder();
        unet.eval();
        te.eval();
        return (unet, te, randn(2, 4, 8, 8), tensor(new long[] { 10, 500 }), randn(2, 5, ToyUNet.ContextDim));
    }

    static Tensor Run(ToyUNet unet, ToyTextEncoder te, Tensor x, Tensor t, Tensor tokens)
    {
        using var _ = no_grad();
        return unet.forward(x, t, te.forward(tokens));
    }

    static void Randomize(LoraNetwork network)
    {
        using var _ = no_grad();
        foreach (var p in network.Parameters()) p.copy_(randn_like(p) * 0.3);
    }

    [Fact]
    public void LoraTargetsTransformerAndClipLayersWithKohyaNames()
    {
        var (unet, te, _, _, _) = Setup();
        using var network = LoraNetwork.Create(unet, te, new NetworkOptions { Dim = 4, Alpha = 1 });
        var names = network.UnetModules.Select(m => m.Name).ToHashSet();
        // Per Transformer2DModel: proj_in, proj_out, attn1/attn2 q,k,v,out.0, ff.net.0.proj, ff.net.2 = 12.
        Assert.Equal(24, names.Count);
        Assert.Contains("lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_attn1_to_q", names);
        Assert.Contains("lora_unet_down_blocks_1_attentions_0_transformer_blocks_0_attn2_to_out_0", names);
        Assert.Contains("lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_ff_net_0_proj", names);
        Assert.Contains("lora_unet_down_blocks_0_attentions_0_proj_in", names);
        Assert.DoesNotContain(names, n => n.Contains("resnets") || n.Contains("conv_in") || n.Contains("downsamplers"));
        var teNames = network.TextEncoderModules.Select(m => m.Name).ToList();
        Assert.Equal(12, teNames.Count);
        Assert.Contains("lora_te_text_model_encoder_layers_1_self_attn_q_proj", teNames);
        Assert.Contains("lora_te_text_model_encoder_layers_0_mlp_fc2", teNames);

        var sd = network.StateDict();
        Assert.All(sd.Keys, k => Assert.Matches(@"^lora_(unet|te)_[a-z0-9_]+\.(lora_down\.weight|lora_up\.weight|alpha)$", k));
        Assert.Equal(3 * 36, sd.Count);
        Assert.Equal(new long[] { 4, ToyUNet.Channels, 1, 1 }, sd["lora_unet_down_blocks_0_attentions_0_proj_in.lora_down.weight"].shape);
        Assert.Equal(new long[] { ToyUNet.Channels, 4, 1, 1 }, sd["lora_unet_down_blocks_0_attentions_0_proj_in.lora_up.weight"].shape);
        Assert.Equal(new long[] { 4, ToyUNet.ContextDim }, sd["lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_attn2_to_k.lora_down.weight"].shape);
        Assert.Empty(sd["lora_te_text_model_encoder_layers_0_mlp_fc1.alpha"].shape);
        Assert.Equal(1f, sd["lora_te_text_model_encoder_layers_0_mlp_fc1.alpha"].item<float>());
        Assert.Equal(0.25, network.UnetModules[0].Scale, 6);
    }

    [Fact]
    public void ConvDimAddsResnetAndDownsampleConvsWithTheirOwnRank()
    {
        var (unet, te, _, _, _) = Setup();
        using var network = LoraNetwork.Create(unet, te, NetworkOptions.FromKohya("networks.lora", 8, 4, ["conv_dim=2", "conv_alpha=1"]));
        Assert.Equal(NetworkKind.LoCon, network.Options.Kind);
        var byName = network.UnetModules.ToDictionary(m => m.Name);
        Assert.Equal(24 + 2 * 5, byName.Count);
        Assert.Equal(2, byName["lora_unet_down_blocks_0_resnets_0_conv1"].Rank);
        Assert.Equal(0.5, byName["lora_unet_down_blocks_0_resnets_0_conv1"].Scale, 6);
        Assert.Equal(2, byName["lora_unet_down_blocks_1_downsamplers_0_conv"].Rank);
        Assert.Equal(8, byName["lora_unet_down_blocks_0_resnets_0_time_emb_proj"].Rank);
        Assert.Equal(8, byName["lora_unet_down_blocks_0_resnets_0_conv_shortcut"].Rank);
        var down = network.StateDict()["lora_unet_down_blocks_0_resnets_0_conv1.lora_down.weight"];
        Assert.Equal(new long[] { 2, ToyUNet.Channels, 3, 3 }, down.shape);
        Assert.Equal(new long[] { ToyUNet.Channels, 2, 1, 1 }, network.StateDict()["lora_unet_down_blocks_0_resnets_0_conv1.lora_up.weight"].shape);
    }

    [Fact]
    public void AlphaZeroOrNullMeansRank()
    {
        var (unet, _, _, _, _) = Setup();
        using var zero = LoraNetwork.Create(unet, null, new NetworkOptions { Dim = 4, Alpha = 0 });
        Assert.All(zero.Modules, m => Assert.Equal(1.0, m.Scale, 6));
        using var none = LoraNetwork.Create(unet, null, new NetworkOptions { Dim = 4, Alpha = null });
        Assert.All(none.Modules, m => Assert.Equal(4f, ((LoraModule)m).alpha.item<float>()));
    }

    [Theory]
    [InlineData(NetworkKind.LoRA)]
    [InlineData(NetworkKind.LoCon)]
    [InlineData(NetworkKind.LoHa)]
    public void NewNetworkIsANoOpAndHookedEqualsMergedAtAnyMultiplier(NetworkKind kind)
    {
        var (unet, te, x, t, tokens) = Setup();
        using var baseline = Run(unet, te, x, t, tokens);
        var options = new NetworkOptions { Kind = kind, Dim = 3, Alpha = 2, ConvDim = kind == NetworkKind.LoRA ? null : 2, ConvAlpha = 1 };
        using var network = LoraNetwork.Create(unet, te, options);
        network.Attach();
        using (var fresh = Run(unet, te, x, t, tokens)) Assert.True(fresh.allclose(baseline, rtol: 0, atol: 1e-6));

        Randomize(network);
        network.Multiplier = 0.7f;
        using var hooked = Run(unet, te, x, t, tokens);
        Assert.False(hooked.allclose(baseline, rtol: 0, atol: 1e-3));

        network.Merge(0.7f);
        Assert.Empty(unet.down_blocks[0].attentions[0].proj_in.Adapters);
        using var merged = Run(unet, te, x, t, tokens);
        Assert.True(merged.allclose(hooked, rtol: 1e-4, atol: 1e-5), $"max diff {(merged - hooked).abs().max().item<float>()}");

        network.Unmerge();
        using var restored = Run(unet, te, x, t, tokens);
        Assert.True(restored.allclose(baseline, rtol: 1e-4, atol: 1e-5));
    }

    [Theory]
    [InlineData(NetworkKind.LoRA)]
    [InlineData(NetworkKind.LoCon)]
    [InlineData(NetworkKind.LoHa)]
    public void FromStateDictDetectsKindAndReproducesOutputs(NetworkKind kind)
    {
        var (unet, te, x, t, tokens) = Setup();
        var options = new NetworkOptions { Kind = kind, Dim = 4, Alpha = 2, ConvDim = kind == NetworkKind.LoRA ? null : 3, ConvAlpha = 1.5 };
        using var trained = LoraNetwork.Create(unet, te, options);
        Randomize(trained);
        var saved = trained.StateDict().ToDictionary(kv => kv.Key, kv => kv.Value.clone());
        trained.Attach();
        using var expected = Run(unet, te, x, t, tokens);
        trained.Detach();

        var (unet2, te2, _, _, _) = Setup();
        using var loaded = LoraNetwork.FromStateDict(unet2, te2, saved);
        Assert.Equal(kind, loaded.Options.Kind);
        Assert.Equal(4, loaded.Options.Dim);
        Assert.Empty(loaded.UnmatchedNames);
        Assert.Equal(trained.Modules.Count(), loaded.Modules.Count());
        loaded.Attach();
        using var actual = Run(unet2, te2, x, t, tokens);
        Assert.True(actual.allclose(expected, rtol: 1e-5, atol: 1e-6));
    }

    [Fact]
    public void FileForAnotherModelIsRejectedWithTheReason()
    {
        var (unet, te, _, _, _) = Setup();
        var foreign = new Dictionary<string, Tensor> { ["lora_unet_input_blocks_1_1_proj_in.lora_down.weight"] = zeros(4, 8, 1, 1) };
        var error = Assert.Throws<ArgumentException>(() => LoraNetwork.FromStateDict(unet, te, foreign, "x.safetensors"));
        Assert.Contains("x.safetensors", error.Message);
        Assert.Contains("lora_unet_input_blocks_1_1_proj_in", error.Message);
    }

    [Fact]
    public void DropoutsApplyOnlyInTraining()
    {
        var (unet, te, x, t, tokens) = Setup();
        using var baseline = Run(unet, te, x, t, tokens);
        using var network = LoraNetwork.Create(unet, te, new NetworkOptions { Dim = 4, Dropout = 0.5f, RankDropout = 0.5f });
        Randomize(network);
        network.Attach();
        network.SetTraining(false);
        using var a = Run(unet, te, x, t, tokens);
        using var b = Run(unet, te, x, t, tokens);
        Assert.True(a.allclose(b, rtol: 0, atol: 0));
        network.SetTraining(true);
        using var c = Run(unet, te, x, t, tokens);
        Assert.False(c.allclose(a, rtol: 0, atol: 1e-5));

        foreach (var m in network.Modules) m.ModuleDropout = 1f;
        using var skipped = Run(unet, te, x, t, tokens);
        Assert.True(skipped.allclose(baseline, rtol: 0, atol: 1e-6));
    }

    [Fact]
    public void LohaRankDropoutDropsWholeOutputRowsOfTheDeltaInTrainingOnly()
    {
        var (unet, _, _, _, _) = Setup();
        var target = LoraNetwork.AllTargets(unet, "lora_unet").Values.First(t => t.Conv is null && t.OutFeatures >= 8);
        using var module = new LohaModule("m", target, 2, 2) { RankDropout = 0.5f };
        using (no_grad()) module.hada_w2_a.copy_(randn_like(module.hada_w2_a));
        using var x = randn(3, target.InFeatures);
        using var full = nn.functional.linear(x, module.DeltaWeight());
        using var none = zeros_like(full);

        module.eval();
        using var evaluated = module.Adapt(x, none);
        Assert.True(evaluated.allclose(full, rtol: 1e-5, atol: 1e-6));

        module.train();
        manual_seed(11);
        using var trained = module.Adapt(x, none);
        var kept = 0;
        for (var j = 0; j < full.shape[1]; j++)
        {
            using var column = trained[.., j];
            if (column.abs().max().item<float>() == 0) continue;
            Assert.True(column.allclose(full[.., j], rtol: 1e-5, atol: 1e-6), $"row {j} of the delta is scaled, not kept or dropped");
            kept++;
        }
        Assert.InRange(kept, 1, (int)full.shape[1] - 1);
    }

    [Fact]
    public void ParameterGroupsUseSeparateLearningRates()
    {
        var (unet, te, _, _, _) = Setup();
        using var network = LoraNetwork.Create(unet, te, new NetworkOptions { Dim = 2 });
        var groups = network.ParameterGroups(1e-4, unetLr: 5e-4, textEncoderLr: 5e-5);
        Assert.Equal(["text_encoder", "unet"], groups.Select(g => g.Name));
        Assert.Equal(5e-5, groups[0].LearningRate);
        Assert.Equal(5e-4, groups[1].LearningRate);
        Assert.Equal(12 * 2, groups[0].Parameters.Count);
        Assert.Equal(network.ParameterCount, groups.Sum(g => g.Parameters.Sum(p => p.numel())));
        Assert.Single(network.ParameterGroups(1e-4, textEncoderLr: 0));
    }

    [Fact]
    public void ConvLoraDeltaWeightEqualsComposedConvolution()
    {
        var (unet, _, _, _, _) = Setup();
        var target = LoraNetwork.AllTargets(unet, "lora_unet")["lora_unet_down_blocks_0_resnets_0_conv1"];
        using var module = new LoraModule("m", target, 3, 3);
        using (no_grad()) module.UpWeight.copy_(randn_like(module.UpWeight));
        using var x = randn(1, ToyUNet.Channels, 6, 6);
        using var viaModules = module.lora_up.forward(module.lora_down.forward(x));
        using var viaDelta = nn.functional.conv2d(x, module.DeltaWeight(), padding: new long[] { 1, 1 });
        Assert.True(viaDelta.allclose(viaModules, rtol: 1e-4, atol: 1e-5));
    }

    [Fact]
    public void UnknownNetworkArgsAreNamed()
    {
        var e = Assert.Throws<ArgumentException>(() => NetworkOptions.FromKohya("networks.lora", 4, 1, ["conv_dims=4"]));
        Assert.Contains("conv_dims", e.Message);
        var m = Assert.Throws<ArgumentException>(() => NetworkOptions.FromKohya("networks.dylora", 4, 1, []));
        Assert.Contains("networks.dylora", m.Message);
        Assert.Equal(NetworkKind.LoHa, NetworkOptions.FromKohya("lycoris.kohya", 4, 1, ["algo=loha"]).Kind);
    }
}
