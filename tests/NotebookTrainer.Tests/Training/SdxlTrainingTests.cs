using NotebookTrainer.Cli;
using NotebookTrainer.Datasets;
using NotebookTrainer.Datasets.Config;
using NotebookTrainer.Models;
using NotebookTrainer.Networks;
using NotebookTrainer.SafeTensors;
using NotebookTrainer.Training;
using NotebookTrainer.World;
using static TorchSharp.torch;

namespace NotebookTrainer.Tests.Training;

/// <summary>sdxl_train_network.py on the tiny SDXL-architecture model (<see cref="TinyStableDiffusion.TestXL"/>).</summary>
[Collection(TorchRandom.Collection)]
public sealed class SdxlTrainingTests : IDisposable
{
    readonly string dir = Directory.CreateTempSubdirectory("ntrain-sdxl-train-").FullName;

    public void Dispose() => Directory.Delete(dir, recursive: true);

    static string Json(string s) => System.Text.Json.JsonSerializer.Serialize(s);

    string TinyXL() => TinyStableDiffusion.Write(Path.Combine(dir, "base"), configs: TinyStableDiffusion.TestXL);

    string Data()
    {
        var data = Path.Combine(dir, "data");
        if (!Directory.Exists(data)) SampleDataset.Generate(data, seed: 5, count: 4);
        return data;
    }

    TrainingConfig Config(string model, string output, string extra = "", int bucketSteps = 32) => TrainingConfig.Parse(Toml(model, output, extra, bucketSteps));

    string Toml(string model, string output, string extra = "", int bucketSteps = 32) => $"""
        pretrained_model_name_or_path = {Json(model)}
        train_data_dir = {Json(Data())}
        caption_extension = ".txt"
        resolution = 64
        enable_bucket = true
        min_bucket_reso = 32
        max_bucket_reso = 128
        bucket_reso_steps = {bucketSteps}
        train_batch_size = 2
        output_dir = {Json(output)}
        output_name = "xl"
        network_dim = 4
        network_alpha = 2
        learning_rate = 1e-3
        max_train_steps = 3
        seed = 7
        cache_latents = true
        save_precision = "float"
        {extra}
        """;

    [Theory]
    [InlineData(1024, 768, 1000, 800, false, new float[] { 800, 1000, 0, 32, 768, 1024 })]
    [InlineData(1024, 768, 1000, 800, true, new float[] { 800, 1000, 0, 32, 768, 1024 })]
    // Fitted width 960.96: left ⌊31.52⌋ = 31, right 991.96; mirrored, left is int(1024 − 991.96) = 32, not 1024 − 991 = 33.
    [InlineData(1024, 768, 1001, 800, false, new float[] { 800, 1001, 0, 31, 768, 1024 })]
    [InlineData(1024, 768, 1001, 800, true, new float[] { 800, 1001, 0, 32, 768, 1024 })]
    [InlineData(768, 1024, 800, 1000, false, new float[] { 1000, 800, 32, 0, 1024, 768 })]
    [InlineData(64, 64, 512, 512, true, new float[] { 512, 512, 0, 0, 64, 64 })]
    public void Time_ids_are_sd_scripts_original_size_crop_and_target(int bucketW, int bucketH, int imageW, int imageH, bool flipped, float[] expected)
    {
        var sample = new TrainingSample("a.png", "", false, 1, true, new SubsetOptions(), (imageW, imageH), (bucketW, bucketH));
        Assert.Equal(expected, SdxlSizeConditioning.TimeIds(sample, (bucketW, bucketH), flipped, enableBucket: true));
        // Without buckets sd-scripts' crop is (0, 0, 0, 0), so a mirrored sample's left edge, width − right, is the width.
        Assert.Equal(new float[] { imageH, imageW, 0, flipped ? bucketW : 0, bucketH, bucketW }, SdxlSizeConditioning.TimeIds(sample, (bucketW, bucketH), flipped, enableBucket: false));
    }

    [Fact]
    public void Ntrain_train_on_a_tiny_SDXL_file_samples_and_writes_an_SDXL_LoRA_that_loads_back_with_both_text_encoders_trained()
    {
        var model = TinyXL();
        var output = Path.Combine(dir, "out");
        var prompts = Path.Combine(dir, "prompts.txt");
        File.WriteAllText(prompts, "sks, purple heart --n blurry --w 64 --h 64 --d 3 --s 2 --l 5\n");
        var toml = Path.Combine(dir, "xl.toml");
        File.WriteAllText(toml, Toml(model, output, $"""
            network_module = "networks.lora"
            network_args = ["conv_dim=2", "conv_alpha=1"]
            no_half_vae = true
            sample_every_n_steps = 3
            sample_prompts = {Json(prompts)}
            """));
        Assert.Equal(0, Ntrain.Run(["train", "--config", toml]));

        Assert.Matches(@"^xl_000003_00_\d+\.png$", Path.GetFileName(Assert.Single(Directory.GetFiles(Path.Combine(output, "sample"), "*.png"))));
        var lora = Path.Combine(output, "xl.safetensors");
        using (var file = SafeTensorsFile.Open(lora))
        {
            Assert.Equal("sdxl_base_v1-0", file.Metadata["ss_base_model_version"]);
            Assert.Equal("False", file.Metadata["ss_v2"]);
            Assert.Equal("stable-diffusion-xl-v1-base/lora", file.Metadata["modelspec.architecture"]);
            Assert.Contains(file.Names, n => n.StartsWith("lora_unet_input_blocks_4_1_transformer_blocks_0_attn2_to_k.", StringComparison.Ordinal));
            Assert.Contains(file.Names, n => n.StartsWith("lora_unet_output_blocks_2_2_conv.", StringComparison.Ordinal));
        }
        using var sd = StableDiffusion.Load(model);
        var (network, _) = LoraFile.Load(lora, sd.Unet, sd.TextEncoder, textEncoder2: sd.TextEncoder2);
        using (network)
        {
            Assert.Empty(network.UnmatchedNames);
            Assert.Equal(NetworkKind.LoCon, network.Options.Kind);
            // Up weights start at zero: each group moved in 3 steps.
            foreach (var prefix in new[] { "lora_unet_", "lora_te1_", "lora_te2_" })
                Assert.Contains(network.Modules, m => m.Name.StartsWith(prefix, StringComparison.Ordinal) && ((LoraModule)m).UpWeight.abs().sum().item<float>() > 0);
        }

        // ntrain sample with the SDXL LoRA: every module matches (an unmatched one would print a warning).
        var stderr = new StringWriter();
        var previous = Console.Error;
        Console.SetError(stderr);
        try { Assert.Equal(0, Ntrain.Run(["sample", "--model", model, "--prompts", prompts, "--out", Path.Combine(dir, "sampled"), "--lora", lora + ":0.8", "--steps", "2"])); }
        finally { Console.SetError(previous); }
        Assert.DoesNotContain("match no layer", stderr.ToString());
        Assert.Single(Directory.GetFiles(Path.Combine(dir, "sampled", "sample"), "xl_*.png"));
    }

    [Fact]
    public void Cached_text_encoder_outputs_train_the_same_UNet_LoRA_and_are_refused_while_a_text_encoder_trains()
    {
        var model = TinyXL();
        List<float> Losses(string name, string extra)
        {
            var config = Config(model, Path.Combine(dir, name), "network_train_unet_only = true\n" + extra);
            using var models = TrainingModelLoader.Load(config, CPU);
            using var trainer = new Trainer(config, TrainingDataset.Build(config), models, CPU);
            var watcher = new StepWatcher();
            trainer.Train(watcher);
            return watcher.Reports.Select(r => r.Loss).ToList();
        }
        var fresh = Losses("fresh", "");
        var cached = Losses("cached", "cache_text_encoder_outputs = true");
        Assert.Equal(3, cached.Count);
        for (var i = 0; i < 3; i++) Assert.Equal(fresh[i], cached[i], 4);

        var both = Config(model, Path.Combine(dir, "both"), "cache_text_encoder_outputs_to_disk = true");
        using var bothModels = TrainingModelLoader.Load(both, CPU);
        var e = Assert.Throws<TrainingException>(() => new Trainer(both, TrainingDataset.Build(both), bothModels, CPU));
        Assert.Contains("network_train_unet_only = true", e.Message);

        var shuffled = Config(model, Path.Combine(dir, "shuffled"), "network_train_unet_only = true\ncache_text_encoder_outputs = true\nshuffle_caption = true");
        using var shuffledModels = TrainingModelLoader.Load(shuffled, CPU);
        e = Assert.Throws<TrainingException>(() => new Trainer(shuffled, TrainingDataset.Build(shuffled), shuffledModels, CPU));
        Assert.Contains("shuffle_caption", e.Message);
    }

    [Fact]
    public void SDXL_refuses_v2_full_model_methods_and_coarse_buckets_by_name()
    {
        var model = TinyXL();
        var v2 = Config(model, Path.Combine(dir, "v2"), "v2 = true");
        using (var models = TrainingModelLoader.Load(v2, CPU))
            Assert.Contains("v2 = true", Assert.Throws<TrainingException>(() => new Trainer(v2, TrainingDataset.Build(v2), models, CPU)).Message);

        var db = Config(model, Path.Combine(dir, "db"));
        var e = Assert.Throws<TrainingException>(() => TrainingModelLoader.Load(db, CPU, method: TrainingMethod.DreamBooth));
        Assert.Contains("only LoRA / LoCon / LoHa training", e.Message);
        Assert.Contains(model, e.Message);

        var coarseConfig = Config(model, Path.Combine(dir, "coarse"), bucketSteps: 16);
        using (var models = TrainingModelLoader.Load(coarseConfig, CPU))
            Assert.Contains("multiple of 32", Assert.Throws<TrainingException>(() => new Trainer(coarseConfig, TrainingDataset.Build(coarseConfig), models, CPU)).Message);
    }
}
