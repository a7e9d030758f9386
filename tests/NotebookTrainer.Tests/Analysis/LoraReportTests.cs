using System.Text.Json;
using NotebookTrainer.Analysis;
using NotebookTrainer.Cli;
using NotebookTrainer.Networks;
using NotebookTrainer.SafeTensors;
using NotebookTrainer.Tests.SafeTensors;
using NotebookTrainer.Tests.Sampling;
using static TorchSharp.torch;

namespace NotebookTrainer.Tests.Analysis;

public class LoraReportTests
{
    static readonly Dictionary<string, string> Metadata = new()
    {
        ["ss_network_module"] = "networks.lora",
        ["ss_network_dim"] = "4",
        ["ss_network_alpha"] = "2",
        ["ss_output_name"] = "shapes<b>",
        ["ss_tag_frequency"] = """{"10_sks shape": {"sks": 32, "red circle": 9, "white background": 12}, "2_reg": {"red circle": 4, "<script>": 1}}""",
        ["ss_dataset_dirs"] = """{"10_sks shape": {"n_repeats": 10, "img_count": 32}}""",
    };

    static string Save(TempDir dir, string name, LoraNetwork network, IReadOnlyDictionary<string, string>? metadata = null, Func<string, bool>? keep = null)
    {
        var path = dir.File(name);
        var tensors = network.StateDict().Where(kv => keep?.Invoke(kv.Key) ?? true).ToDictionary(kv => kv.Key, kv => kv.Value.detach().clone());
        SafeTensorsWriter.Write(path, tensors, metadata);
        foreach (var t in tensors.Values) t.Dispose();
        return path;
    }

    static LoraNetwork RandomNetwork(TinyPipeline tiny, int seed, double? alpha = 2)
    {
        manual_seed(seed);
        var network = LoraNetwork.Create(tiny.Unet, null, new NetworkOptions { Dim = 4, Alpha = alpha });
        using var _ = no_grad();
        foreach (var (key, t) in network.StateDict())
            if (key.EndsWith("lora_up.weight", StringComparison.Ordinal)) t.normal_(0, 0.1);
        return network;
    }

    [Fact]
    public void ReportsBlocksRanksNormsAndMetadata()
    {
        using var tiny = new TinyPipeline();
        using var dir = new TempDir();
        using var network = RandomNetwork(tiny, 1);
        var report = LoraReport.Load(Save(dir, "a.safetensors", network, Metadata), topTags: 3);
        var withScriptTag = LoraReport.Load(dir.File("a.safetensors"), topTags: 10);
        Assert.Contains(withScriptTag.TagFrequency, t => t.Key == "<script>");
        Assert.Contains("&lt;script&gt;", withScriptTag.ToHtml());
        Assert.DoesNotContain("<script>", withScriptTag.ToHtml());

        Assert.Equal(network.UnetModules.Count, report.Modules.Count);
        Assert.Equal(["down 0", "mid", "up 1"], report.Blocks.Select(b => b.Block));
        Assert.All(report.Modules, m => Assert.Equal((4L, 2.0, "LoRA"), (m.Rank, m.Alpha, m.Kind)));
        foreach (var module in network.UnetModules)
        {
            using var delta = module.DeltaWeight();
            Assert.Equal(delta.norm().item<float>(), report.Modules.Single(m => m.Name == module.Name).DeltaNorm, 4);
        }
        var down = report.Blocks[0];
        Assert.Equal(Math.Sqrt(report.Modules.Where(m => m.Block == "down 0").Sum(m => m.DeltaNorm * m.DeltaNorm)), down.Norm, 9);

        Assert.Equal([("sks", 32), ("red circle", 13), ("white background", 12)], report.TagFrequency.Select(t => (t.Key, t.Value)));
        Assert.Equal([("10_sks shape", 10, 32)], report.DatasetDirs);
        Assert.Contains(report.TrainingParameters, kv => kv.Key == "ss_network_dim" && kv.Value == "4");

        var html = report.ToHtml();
        Assert.DoesNotContain("<script>", html);
        Assert.Contains("shapes&lt;b&gt;", html);
        using var json = JsonDocument.Parse(report.ToJson());
        Assert.Equal(report.Modules.Count, json.RootElement.GetProperty("module_count").GetInt32());
        Assert.Contains("down 0", report.ToText());
    }

    [Fact]
    public void ComparisonFindsMissingModulesRankAlphaAndNormRatios()
    {
        using var tiny = new TinyPipeline();
        using var dir = new TempDir();
        using var a = RandomNetwork(tiny, 1);
        var pathA = Save(dir, "a.safetensors", a, Metadata);
        using (no_grad())
            foreach (var (key, t) in a.StateDict())
                if (key.EndsWith("lora_up.weight", StringComparison.Ordinal)) t.mul_(3);
        var dropped = a.UnetModules[0].Name;
        var pathB = Save(dir, "b.safetensors", a, Metadata, key => !key.StartsWith(dropped + ".", StringComparison.Ordinal));
        using var c = RandomNetwork(tiny, 2, alpha: 4);
        var pathC = Save(dir, "c.safetensors", c);

        var diff = new LoraComparison(LoraReport.Load(pathA), LoraReport.Load(pathB));
        Assert.Equal([dropped], diff.OnlyInA);
        Assert.Empty(diff.OnlyInB);
        Assert.Empty(diff.RankOrAlphaDifferences);
        Assert.All(diff.Shared, d => Assert.Equal(3, d.NormRatio, 4));
        Assert.All(diff.BlockRatios.Where(r => r.Block != "down 0"), r => Assert.Equal(3, r.Ratio, 4));

        var alphaDiff = new LoraComparison(LoraReport.Load(pathA), LoraReport.Load(pathC));
        Assert.Equal(alphaDiff.Shared.Count, alphaDiff.RankOrAlphaDifferences.Count());
        Assert.Contains(alphaDiff.MetadataDifferences, kv => kv.Key == "ss_network_dim");
        using var json = JsonDocument.Parse(diff.ToJson());
        Assert.Equal(1, json.RootElement.GetProperty("only_in_a").GetArrayLength());
        Assert.Contains("only in a: 1", diff.ToText());
        Assert.Contains("<table", diff.ToHtml());
    }

    [Fact]
    public void BlocksOfLdmAndTextEncoderNames()
    {
        Assert.Equal("te", LoraBlocks.Of("lora_te_text_model_encoder_layers_0_mlp_fc1"));
        Assert.Equal("down 2", LoraBlocks.Of("lora_unet_down_blocks_2_attentions_1_proj_in"));
        Assert.Equal("up 3", LoraBlocks.Of("lora_unet_up_blocks_3_attentions_0_proj_out"));
        Assert.Equal("mid", LoraBlocks.Of("lora_unet_mid_block_attentions_0_proj_in"));
        Assert.Equal("down 1", LoraBlocks.Of("lora_unet_input_blocks_4_1_proj_in"));
        Assert.Equal("up 0", LoraBlocks.Of("lora_unet_output_blocks_2_1_conv"));
        Assert.Equal("other", LoraBlocks.Of("lora_unet_conv_in"));
    }

    [Fact]
    public void CliInspectsDiffsAndRejectsBadFiles()
    {
        using var tiny = new TinyPipeline();
        using var dir = new TempDir();
        using var network = RandomNetwork(tiny, 1);
        var path = Save(dir, "a.safetensors", network, Metadata);
        Assert.Equal(0, Ntrain.Run(["lora", "inspect", path, "--json"]));
        Assert.Equal(0, Ntrain.Run(["lora", "diff", path, path]));
        File.WriteAllText(dir.File("bad.safetensors"), "not a safetensors file");
        Assert.Equal(2, Ntrain.Run(["lora", "inspect", dir.File("bad.safetensors")]));
        Assert.Equal(2, Ntrain.Run(["lora", "inspect", dir.File("missing.safetensors")]));
        Assert.Equal(2, Ntrain.Run(["lora", "bogus"]));
    }
}
