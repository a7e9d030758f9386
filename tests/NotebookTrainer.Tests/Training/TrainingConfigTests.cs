using NotebookTrainer.Configuration;
using NotebookTrainer.Networks;
using NotebookTrainer.Training;

namespace NotebookTrainer.Tests.Training;

public class TrainingConfigTests
{
    static string RepoFile(string relative)
    {
        var dir = AppContext.BaseDirectory;
        while (!File.Exists(Path.Combine(dir, "NotebookTrainer.sln"))) dir = Path.GetDirectoryName(dir)!;
        return Path.Combine(dir, relative);
    }

    [Fact]
    public void TemplateLoadsWithKohyaMeanings()
    {
        var config = TrainingConfig.Load(RepoFile("data-templates/training.toml"));
        Assert.Equal("embedded:tiny", config.PretrainedModelNameOrPath);
        Assert.Equal(8, config.NetworkDim);
        Assert.Equal(4, config.NetworkAlpha);
        Assert.Equal(5e-5, config.TextEncoderLr);
        Assert.Equal(0.05, config.LrWarmupSteps);
        Assert.Equal(10, config.MaxTrainEpochs);
        Assert.Equal("fp16", config.SavePrecision);
        Assert.Equal(NetworkKind.LoRA, config.NetworkOptions().Kind);
    }

    [Fact]
    public void FlatKohyaConfigWithConvArgsAndQuotedNumbers()
    {
        var config = TrainingConfig.Parse("""
            pretrained_model_name_or_path = "/models/sd15.safetensors"
            train_data_dir = "/data/train"
            resolution = "512,768"
            network_args = ["conv_dim=4", "conv_alpha=2"]
            learning_rate = "1e-4"
            optimizer_args = ["weight_decay=0.1"]
            xformers = true
            """);
        Assert.Equal((512, 768), config.Resolution);
        Assert.Equal(1e-4, config.LearningRate);
        var network = config.NetworkOptions();
        Assert.Equal(NetworkKind.LoCon, network.Kind);
        Assert.Equal(4, network.ConvDim);
        Assert.Equal(2, network.ConvAlpha);
        Assert.Contains(config.Warnings, w => w.Contains("xformers"));
    }

    [Fact]
    public void LohaWithPlainDropoutWarnsThatOnlyRankAndModuleDropoutApply()
    {
        var config = TrainingConfig.Parse("""
            pretrained_model_name_or_path = "/models/sd15.safetensors"
            train_data_dir = "/data/train"
            network_module = "lycoris.kohya"
            network_args = ["algo=loha", "dropout=0.1", "rank_dropout=0.2"]
            """);
        var network = config.NetworkOptions();
        Assert.Equal(NetworkKind.LoHa, network.Kind);
        Assert.Equal(0.2f, network.RankDropout);
        Assert.Contains(config.Warnings, w => w.Contains("LoHa has no plain dropout") && w.Contains("rank_dropout"));
    }

    [Fact]
    public void UnknownKeyGetsLineAndSuggestion()
    {
        var e = Assert.Throws<ConfigException>(() => TrainingConfig.Parse("""
            pretrained_model_name_or_path = "m.safetensors"
            train_data_dir = "t"
            netwrok_dim = 16
            """, "cfg.toml"));
        var problem = Assert.Single(e.Problems);
        Assert.Equal(3, problem.Line);
        Assert.Equal("netwrok_dim", problem.Key);
        Assert.Contains("did you mean 'network_dim'", problem.Message);
        Assert.StartsWith("cfg.toml:3: netwrok_dim:", e.Message);
    }

    [Fact]
    public void WrongTypesAndImpossibleCombinationsAreAllReported()
    {
        var e = Assert.Throws<ConfigException>(() => TrainingConfig.Parse("""
            pretrained_model_name_or_path = "m.safetensors"
            dataset_config = "d.toml"
            train_batch_size = "two"
            cache_latents = true
            random_crop = true
            network_train_unet_only = true
            network_train_text_encoder_only = true
            full_fp16 = true
            lr_scheduler = "cosine_annealing"
            network_args = ["conv_dims=4"]
            """, "cfg.toml"));
        var byKey = e.Problems.ToDictionary(p => p.Key!);
        Assert.Equal(3, byKey["train_batch_size"].Line);
        Assert.Contains("expected an integer", byKey["train_batch_size"].Message);
        Assert.Equal(5, byKey["random_crop"].Line);
        Assert.Contains("cache_latents", byKey["random_crop"].Message);
        Assert.Equal(7, byKey["network_train_text_encoder_only"].Line);
        Assert.Contains("mixed_precision", byKey["full_fp16"].Message);
        Assert.Contains("cosine_with_restarts", byKey["lr_scheduler"].Message);
        Assert.Contains("conv_dims", byKey["network_args"].Message);
    }

    [Fact]
    public void MissingModelAndDataAreNamed()
    {
        var e = Assert.Throws<ConfigException>(() => TrainingConfig.Parse("seed = 1\n"));
        Assert.Contains(e.Problems, p => p.Key == "pretrained_model_name_or_path");
        Assert.Contains(e.Problems, p => p.Key == "dataset_config" && p.Message.Contains("train_data_dir"));
    }

    [Fact]
    public void SyntaxErrorsGiveTheLine()
    {
        var e = Assert.Throws<ConfigException>(() => TrainingConfig.Parse("seed = 1\nnetwork_dim = = 4\n"));
        Assert.Contains(e.Problems, p => p.Line == 2 && p.Message.StartsWith("TOML syntax"));
    }

    [Fact]
    public void The_training_config_parses_through_the_dataset_configs_parser()
    {
        // A Windows path in double quotes: one problem for the line (not one per backslash), with the fix.
        var path = Assert.Throws<ConfigException>(() => TrainingConfig.Parse("seed = 1\noutput_dir = \"C:\\Users\\me\\lora\"\n", "w.toml"));
        var problem = Assert.Single(path.Problems);
        Assert.Equal(2, problem.Line);
        Assert.Contains("write it in single quotes", problem.Message);

        var header = Assert.Throws<ConfigException>(() => TrainingConfig.Parse("[model]\nseed = 1\n[model]\nv2 = true\n", "h.toml"));
        Assert.Contains("table [model] is already defined on line 1", Assert.Single(header.Problems).ToString());

        var datasets = Assert.Throws<ConfigException>(() => TrainingConfig.Parse("seed = 1\n[[datasets]]\nresolution = 512\n", "d.toml"));
        Assert.Contains("datasets go in the dataset config", Assert.Single(datasets.Problems).Message);

        // The same key in two [sections] is one setting given twice.
        var twice = Assert.Throws<ConfigException>(() => TrainingConfig.Parse("[a]\nseed = 1\n[b]\nseed = 2\n", "t.toml"));
        Assert.Contains(twice.Problems, p => p.Key == "seed" && p.Line == 4 && p.Message.Contains("first on line 2"));
    }

    [Fact]
    public void ToTomlRoundTrips()
    {
        var config = TrainingConfig.Load(RepoFile("data-templates/training.toml"));
        var again = TrainingConfig.Parse(config.ToToml());
        Assert.Equal(config.ToToml(), again.ToToml());
        Assert.Equal(config.LrWarmupSteps, again.LrWarmupSteps);
        Assert.Equal(config.NetworkArgs, again.NetworkArgs);
    }
}
