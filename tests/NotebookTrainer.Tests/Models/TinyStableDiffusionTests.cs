using System.Text.Json;
using NotebookTrainer.Checkpoints;
using NotebookTrainer.Cli;
using NotebookTrainer.Datasets;
using NotebookTrainer.Models;
using NotebookTrainer.SafeTensors;
using NotebookTrainer.Tokenizers;
using NotebookTrainer.World;
using TorchSharp;
using static TorchSharp.torch;

namespace NotebookTrainer.Tests.Models;

public sealed class TinyStableDiffusionTests : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("ntrain-tiny").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void WriteIsDeterministicPerSeedAndUsesTheLdmLayout()
    {
        var first = TinyStableDiffusion.Write(Path.Combine(_dir, "a"));
        var again = TinyStableDiffusion.Write(Path.Combine(_dir, "b"));
        var otherSeed = TinyStableDiffusion.Write(Path.Combine(_dir, "c"), seed: 99);
        Assert.Equal(File.ReadAllBytes(first), File.ReadAllBytes(again));
        Assert.NotEqual(File.ReadAllBytes(first), File.ReadAllBytes(otherSeed));
        Assert.InRange(new FileInfo(first).Length, 1_000_000, 10_000_000);

        using var file = SafeTensorsFile.Open(first);
        Assert.Equal(new long[] { 32, 32, 1, 1 }, file.Entries["model.diffusion_model.input_blocks.1.1.proj_in.weight"].Shape);
        Assert.Equal(new long[] { 32, 64 }, file.Entries["model.diffusion_model.input_blocks.1.1.transformer_blocks.0.attn2.to_k.weight"].Shape);
        Assert.Equal(new long[] { 64, 64, 1, 1 }, file.Entries["first_stage_model.encoder.mid.attn_1.q.weight"].Shape);
        Assert.Contains("cond_stage_model.transformer.text_model.encoder.layers.1.mlp.fc2.weight", file.Names);
        Assert.True(File.Exists(Path.Combine(_dir, "a", "config", "unet", "config.json")));
        Assert.Equal(File.ReadAllText(Path.Combine(_dir, "a", "tokenizer", "vocab.json")), File.ReadAllText(Path.Combine(_dir, "b", "tokenizer", "vocab.json")));
    }

    [Fact]
    public void LoadsThroughTheSingleFilePathAndRuns()
    {
        var path = TinyStableDiffusion.Write(_dir);
        using var model = StableDiffusion.Load(path);
        Assert.Equal(64, model.Unet.Config.CrossAttentionDim);
        Assert.Equal(2, model.Vae.Config.DownscaleFactor);
        Assert.False(model.IsVPrediction);
        Assert.All(model.Unet.parameters(), p => Assert.False(p.requires_grad));

        using var scope = NewDisposeScope();
        using var _ = no_grad();
        Assert.NotNull(model.TokenizerDir);
        var tokenizer = ClipTokenizer.Load(model.TokenizerDir!);
        Assert.Equal(tokenizer.EosId, model.TextEncoder.Config.EosTokenId);
        var caption = SampleDataset.CaptionFor(["purple_heart", "white_background"]);
        Assert.DoesNotContain(tokenizer.Tokenize(caption), t => t.Length == 1);
        var ids = tensor(tokenizer.EncodePadded(caption).Select(i => (long)i).ToArray()).unsqueeze(0);
        var text = TextEncoding.Encode(model.TextEncoder, ids);
        Assert.Equal(new long[] { 1, 77, 64 }, text.shape);
        using var posterior = model.Vae.encode(rand(1, 3, 32, 32) * 2 - 1);
        var latents = posterior.mode() * model.Vae.Config.ScalingFactor;
        Assert.Equal(new long[] { 1, 4, 16, 16 }, latents.shape);
        var noise = model.Unet.forward(latents, tensor(999L), text);
        Assert.Equal(latents.shape, noise.shape);
        Assert.Equal(new long[] { 1, 3, 32, 32 }, model.Vae.decode(latents / model.Vae.Config.ScalingFactor).shape);

        using var half = StableDiffusion.Load(path, dtype: ScalarType.BFloat16);
        Assert.All(half.Unet.parameters().Concat(half.Vae.parameters()).Concat(half.TextEncoder.parameters()), p => Assert.Equal(ScalarType.BFloat16, p.dtype));
        var halfNoise = half.Unet.forward(latents.to(ScalarType.BFloat16), tensor(999L), text.to(ScalarType.BFloat16)).to(ScalarType.Float32);
        Assert.True((halfNoise - noise).abs().max().item<float>() < 0.05 * noise.abs().max().item<float>() + 1e-3);
    }

    /// <summary>A fixture made from the tiny model itself: reference outputs computed by our modules, stored the way the reference script stores them.</summary>
    string MakeFixture(bool corruptUnetExpectation)
    {
        var fixture = Path.Combine(_dir, "fixture");
        TinyStableDiffusion.Write(Path.Combine(fixture, "model"));
        using var model = StableDiffusion.Load(Path.Combine(fixture, "model", TinyStableDiffusion.FileName));
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        using var generator = new Generator(5);
        var inputs = new Dictionary<string, Tensor>
        {
            ["unet.sample"] = randn([2, 4, 8, 8], generator: generator),
            ["unet.timestep"] = tensor(new long[] { 10, 600 }),
            ["unet.text"] = randn([2, 77, 64], generator: generator),
            ["vae.image"] = rand([1, 3, 16, 16], generator: generator) * 2 - 1,
            ["vae.latents"] = randn([1, 4, 8, 8], generator: generator),
            ["text.ids"] = randint(0, 1000, [2, 77], generator: generator),
        };
        using var posterior = model.Vae.encode(inputs["vae.image"]);
        var expected = new Dictionary<string, Tensor>
        {
            ["unet.out"] = model.Unet.forward(inputs["unet.sample"], inputs["unet.timestep"], inputs["unet.text"]),
            ["vae.mean"] = posterior.Mean,
            ["vae.decoded"] = model.Vae.decode(inputs["vae.latents"]),
            ["text.last"] = TextEncoding.Encode(model.TextEncoder, inputs["text.ids"]),
            ["text.skip2"] = TextEncoding.Encode(model.TextEncoder, inputs["text.ids"], clipSkip: 2),
        };
        if (corruptUnetExpectation)
            expected["unet.out"] = expected["unet.out"] + 0.01;
        SafeTensorsWriter.Write(Path.Combine(fixture, "inputs.safetensors"), inputs);
        SafeTensorsWriter.Write(Path.Combine(fixture, "expected.safetensors"), expected);
        var checks = new object[]
        {
            new { name = "unet", component = "unet", inputs = new { sample = "unet.sample", timestep = "unet.timestep", encoder_hidden_states = "unet.text" }, output = "unet.out", atol = 1e-5, rtol = 1e-4 },
            new { name = "vae-encode", component = "vae.encode", inputs = new { sample = "vae.image" }, output = "vae.mean", atol = 1e-5, rtol = 1e-4 },
            new { name = "vae-decode", component = "vae.decode", inputs = new { latents = "vae.latents" }, output = "vae.decoded", atol = 1e-5, rtol = 1e-4 },
            new { name = "text", component = "text_encoder", inputs = new { input_ids = "text.ids" }, output = "text.last", atol = 1e-5, rtol = 1e-4 },
            new { name = "text-clip-skip-2", component = "text_encoder", inputs = new { input_ids = "text.ids" }, output = "text.skip2", atol = 1e-5, rtol = 1e-4, clip_skip = 2 },
        };
        File.WriteAllText(Path.Combine(fixture, ModelVerifier.FixtureFile), JsonSerializer.Serialize(new { model = "model/tiny-sd.safetensors", config = "model/config", checks }));
        return fixture;
    }

    [Fact]
    public void VerifyPassesOnAMatchingFixtureAndTheCliExitsZero()
    {
        var fixture = MakeFixture(corruptUnetExpectation: false);
        var report = ModelVerifier.Run(fixture, (m, c) => StableDiffusion.Load(m, c, ScalarType.Float32));
        Assert.Equal(5, report.Checks.Count);
        Assert.True(report.Passed, string.Join("; ", report.Checks.Select(c => $"{c.Name} {c.MaxAbsError}")));
        Assert.Contains("all checks passed", report.ToHtml());
        Assert.Equal(0, Ntrain.Run(["model", "verify", fixture]));
    }

    [Fact]
    public void VerifyFailsOnAWrongExpectation()
    {
        var fixture = MakeFixture(corruptUnetExpectation: true);
        var report = ModelVerifier.Run(fixture, (m, c) => StableDiffusion.Load(m, c, ScalarType.Float32));
        var unet = report.Checks.Single(c => c.Name == "unet");
        Assert.False(unet.Passed);
        Assert.InRange(unet.MaxAbsError, 0.009, 0.011);
        Assert.True(report.Checks.Where(c => c.Name != "unet").All(c => c.Passed));
        Assert.Equal(1, Ntrain.Run(["model", "verify", fixture]));
    }

    [Fact]
    public void BadFixturesAreReportedWithTheFileAndKey()
    {
        var fixture = MakeFixture(corruptUnetExpectation: false);
        var json = Path.Combine(fixture, ModelVerifier.FixtureFile);
        File.WriteAllText(json, """{"model": "model/tiny-sd.safetensors", "checks": [{"name": "x", "component": "unet", "inputs": {"sample": "unet.sample"}, "output": "unet.out"}]}""");
        var error = Assert.Throws<FixtureException>(() => ModelVerifier.Run(fixture, (m, c) => StableDiffusion.Load(m, c)));
        Assert.Contains("fixture.json", error.Message);
        Assert.Contains("timestep", error.Message);
        Assert.Equal(2, Ntrain.Run(["model", "verify", fixture]));
        File.WriteAllText(json, """{"model": "model/tiny-sd.safetensors", "checks": [{"name": "x", "component": "unet", "inputs": {"sample": "nope", "timestep": "unet.timestep", "encoder_hidden_states": "unet.text"}, "output": "unet.out"}]}""");
        error = Assert.Throws<FixtureException>(() => ModelVerifier.Run(fixture, (m, c) => StableDiffusion.Load(m, c)));
        Assert.Contains("'nope'", error.Message);
    }

    [Fact]
    public void A_reduced_width_diffusers_folder_verifies_with_image_short_ids_and_a_top_level_clip_skip()
    {
        // Reference fixtures are often small diffusers folders; they take vae.encode's "image" and token ids shorter than 77.
        var fixture = Path.Combine(_dir, "folder-fixture");
        var single = TinyStableDiffusion.Write(Path.Combine(_dir, "single"));
        using (var weights = CheckpointLoader.Load(single, Path.Combine(_dir, "single", "config")))
            CheckpointWriter.WriteDiffusersFolder(weights, Path.Combine(fixture, "model"));
        Assert.Equal(ModelArchitecture.StableDiffusion1, CheckpointLoader.Analyze(Path.Combine(fixture, "model")).Detection.Architecture);

        using (var model = StableDiffusion.Load(single))
        using (var scope = NewDisposeScope())
        using (no_grad())
        {
            using var generator = new Generator(7);
            var inputs = new Dictionary<string, Tensor>
            {
                ["vae.image"] = rand([1, 3, 16, 16], generator: generator) * 2 - 1,
                ["text.ids"] = randint(0, 500, [2, 16], generator: generator),
            };
            using var posterior = model.Vae.encode(inputs["vae.image"]);
            using var text = model.TextEncoder.forward(inputs["text.ids"]);
            var penultimate = model.TextEncoder.text_model.final_layer_norm.forward(text.HiddenStates[^2]);
            SafeTensorsWriter.Write(Path.Combine(fixture, "inputs.safetensors"), inputs);
            SafeTensorsWriter.Write(Path.Combine(fixture, "expected.safetensors"), new Dictionary<string, Tensor> { ["vae.mean"] = posterior.Mean, ["text.skip2"] = penultimate });
        }
        var json = Path.Combine(fixture, ModelVerifier.FixtureFile);
        File.WriteAllText(json, """
            {"model": "model", "reference": "made by our own modules", "clip_skip": 2, "checks": [
              {"name": "vae-encode", "component": "vae.encode", "inputs": {"image": "vae.image"}, "output": "vae.mean", "atol": 1e-5, "rtol": 1e-4},
              {"name": "text-penultimate", "component": "text_encoder", "inputs": {"input_ids": "text.ids"}, "output": "text.skip2", "atol": 1e-5, "rtol": 1e-4}]}
            """);
        var report = ModelVerifier.Run(fixture, (m, c) => StableDiffusion.Load(m, c, ScalarType.Float32));
        Assert.True(report.Passed, string.Join("; ", report.Checks.Select(c => $"{c.Name} {c.MaxAbsError}")));

        File.WriteAllText(json, File.ReadAllText(json).Replace("\"clip_skip\": 2", "\"clip_skip\": 9"));
        Assert.Contains("exceeds the text encoder's", Assert.Throws<FixtureException>(() => ModelVerifier.Run(fixture, (m, c) => StableDiffusion.Load(m, c))).Message);
    }
}
