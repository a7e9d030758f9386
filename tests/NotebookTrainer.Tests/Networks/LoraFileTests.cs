using NotebookTrainer.Networks;
using NotebookTrainer.SafeTensors;
using static TorchSharp.torch;

namespace NotebookTrainer.Tests.Networks;

[Collection(TorchRandom.Collection)]
public sealed class LoraFileTests : IDisposable
{
    readonly string dir = Directory.CreateTempSubdirectory("ntrain-lorafile-").FullName;

    public void Dispose() => Directory.Delete(dir, recursive: true);

    [Theory]
    [InlineData("float", "F32")]
    [InlineData("fp16", "F16")]
    [InlineData("bf16", "BF16")]
    public void SavesKohyaLayoutAndLoadsBack(string precision, string dtype)
    {
        manual_seed(3);
        var unet = new ToyUNet();
        var te = new ToyTextEncoder();
        using var network = LoraNetwork.Create(unet, te, NetworkOptions.FromKohya("networks.lora", 4, 2, ["conv_dim=2", "conv_alpha=1"]));
        using (no_grad()) foreach (var p in network.Parameters()) p.copy_(randn_like(p) * 0.2);
        var path = Path.Combine(dir, "out.safetensors");
        var written = LoraFile.Save(path, network, LoraFile.ParsePrecision(precision), new Dictionary<string, string> { ["ss_output_name"] = "out" });

        using (var file = SafeTensorsFile.Open(path))
        {
            Assert.Equal(network.StateDict().Keys.Order(StringComparer.Ordinal), file.Names.Order(StringComparer.Ordinal));
            Assert.All(file.Entries.Values, e => Assert.Equal(dtype, e.DType));
            Assert.Empty(file.Entries["lora_unet_down_blocks_0_resnets_0_conv1.alpha"].Shape);
            Assert.Equal("networks.lora", file.Metadata["ss_network_module"]);
            Assert.Equal("4", file.Metadata["ss_network_dim"]);
            Assert.Equal("2", file.Metadata["ss_network_alpha"]);
            Assert.Equal("{\"conv_alpha\":\"1\",\"conv_dim\":\"2\"}", file.Metadata["ss_network_args"]);
            Assert.Equal("out", file.Metadata["ss_output_name"]);
            Assert.Equal(SafeTensorsFile.DataSha256(path), file.Metadata["sshs_model_hash"]);
            Assert.Equal(written["sshs_model_hash"], file.Metadata["sshs_model_hash"]);
        }

        var (loaded, metadata) = LoraFile.Load(path, unet, te);
        using (loaded)
        {
            Assert.Equal(NetworkKind.LoCon, loaded.Options.Kind);
            Assert.Equal("out", metadata["ss_output_name"]);
            var expected = network.StateDict();
            foreach (var (key, value) in loaded.StateDict())
                Assert.True(value.allclose(expected[key].to(LoraFile.ToScalarType(LoraFile.ParsePrecision(precision))).to(ScalarType.Float32)), key);
        }
    }

    [Fact]
    public void UnknownPrecisionNamesTheChoices()
    {
        var e = Assert.Throws<ArgumentException>(() => LoraFile.ParsePrecision("fp8"));
        Assert.Contains("bf16", e.Message);
    }
}
