using NotebookTrainer.Networks;
using NotebookTrainer.Training;

namespace NotebookTrainer.Tests.Training;

/// <summary>The method names of notebooks 04 and 05: each makes the shared config that method, and the config survives its TOML.</summary>
public sealed class MethodChoiceTests
{
    static TrainingConfig Base() => TrainingConfig.Parse("pretrained_model_name_or_path = \"embedded:tiny\"\ntrain_data_dir = \"data\"\nnetwork_dim = 8\nnetwork_alpha = 4\noutput_name = \"sample\"\n");

    [Theory]
    [InlineData("lora", NetworkKind.LoRA, null)]
    [InlineData("locon", NetworkKind.LoCon, 4)]
    [InlineData("loha", NetworkKind.LoHa, 8)]
    public void Network_methods_set_the_module_and_args_kohya_reads(string name, NetworkKind kind, int? convDim)
    {
        var config = Base();
        config.NetworkArgs = ["conv_dim=2"];   // left over from another method: replaced
        Assert.Equal(TrainingMethod.Network, MethodChoice.Apply(name, config));
        var again = TrainingConfig.Parse(config.ToToml());
        var options = NetworkOptions.FromKohya(again.NetworkModule, again.NetworkDim, again.NetworkAlpha, again.NetworkArgs);
        Assert.Equal((kind, 8, convDim), (options.Kind, options.Dim, options.ConvDim));
        Assert.Equal("sample", again.OutputName);
    }

    [Fact]
    public void Full_model_and_textual_inversion_methods_pick_their_trainer_and_keys()
    {
        var config = Base();
        Assert.Equal(TrainingMethod.DreamBooth, MethodChoice.Apply("dreambooth", config));
        Assert.True(MethodChoice.UsesRegularization("dreambooth"));
        Assert.Equal(-1, TrainingConfig.Parse(config.ToToml()).StopTextEncoderTraining);   // the U-Net alone…
        config = Base();
        config.StopTextEncoderTraining = 200;
        MethodChoice.Apply("dreambooth", config);
        Assert.Equal(200, config.StopTextEncoderTraining);   // …unless the config says
        Assert.Equal(TrainingMethod.FineTune, MethodChoice.Apply("finetune", Base()));
        Assert.False(MethodChoice.UsesRegularization("finetune"));

        config = Base();
        Assert.Equal(TrainingMethod.TextualInversion, MethodChoice.Apply("textual-inversion", config));
        var again = TrainingConfig.Parse(config.ToToml());
        Assert.Equal(("sks", "heart", "sks"), (again.TokenString, again.InitWord, again.OutputName));   // the file is named after the word, as A1111 reads it
        config = Base();
        config.TokenString = "mychar";
        MethodChoice.Apply("textual-inversion", config);
        Assert.Equal(("mychar", "mychar"), (config.TokenString, config.OutputName));

        Assert.True(MethodChoice.LearningRate("dreambooth") < MethodChoice.LearningRate("lora"));
        Assert.True(MethodChoice.LearningRate("textual-inversion") > MethodChoice.LearningRate("lora"));
        var e = Assert.Throws<ArgumentException>(() => MethodChoice.Apply("LoRA", Base()));
        Assert.Contains("method = \"LoRA\" is not one of \"lora\", \"locon\", \"loha\", \"dreambooth\", \"finetune\", \"textual-inversion\"", e.Message);
    }
}

/// <summary>Notebook 05's one call: the knobs it shows go into the run's training.toml, from 01's and 04's files or without them.</summary>
public sealed class TrainingChoicesTests : IDisposable
{
    readonly string dir = Directory.CreateTempSubdirectory("nt-choices-").FullName;
    public void Dispose() => Directory.Delete(dir, true);

    static string Templates => Path.Combine(Tests.Runner.RunnerWorkspace.RepositoryRoot, "data-templates");

    [Fact]
    public void The_knobs_and_the_run_layout_are_written_over_01s_config_and_point_at_04s_dataset()
    {
        var trainingConfig = Path.Combine(dir, "config", "training.toml");
        var first = TrainingConfig.Load(Path.Combine(Templates, "training.toml"));
        first.PretrainedModelNameOrPath = "/models/base.safetensors";
        Directory.CreateDirectory(Path.GetDirectoryName(trainingConfig)!);
        File.WriteAllText(trainingConfig, first.ToToml());
        var datasetConfig = Path.Combine(dir, "data", "dataset_config.toml");
        Directory.CreateDirectory(Path.GetDirectoryName(datasetConfig)!);
        File.WriteAllText(datasetConfig, "");

        var config = new TrainingChoices("locon", Epochs: 3, NetworkDim: 16, VPredLikeLoss: 1.0).Write(trainingConfig, datasetConfig, Path.Combine(dir, "run"), Templates);

        Assert.Equal(config.ToToml(), TrainingConfig.Load(Path.Combine(dir, "run", "training.toml")).ToToml());
        Assert.Equal("/models/base.safetensors", config.PretrainedModelNameOrPath);
        Assert.Equal(Path.GetFullPath(datasetConfig), config.DatasetConfig);
        Assert.Equal(3, config.MaxTrainEpochs);
        Assert.Equal(16, config.NetworkDim);
        Assert.Equal(16.0, config.NetworkAlpha);
        Assert.Equal(1.0, config.VPredLikeLoss);
        Assert.Null(config.MinSnrGamma);
        Assert.Equal(MethodChoice.LearningRate("locon"), config.UnetLr);
        Assert.Equal(MethodChoice.LearningRate("locon") / 2, config.TextEncoderLr);
        Assert.Equal(["conv_dim=8", "conv_alpha=8"], config.NetworkArgs);
        Assert.Equal(("sample_locon", Path.Combine(dir, "run", "output"), Path.Combine(dir, "run", "logs")), (config.OutputName, config.OutputDir, config.LoggingDir));
        Assert.Equal(1, config.SaveEveryNEpochs);
        Assert.Equal(1, config.SampleEveryNEpochs);
        var eight = new TrainingChoices("locon", Epochs: 8, NetworkDim: 16).Write(trainingConfig, datasetConfig, Path.Combine(dir, "run8"), Templates);
        Assert.Equal((1, 2), (eight.SaveEveryNEpochs, eight.SampleEveryNEpochs));   // samples at epochs 2, 4, 6 and 8
    }

    [Fact]
    public void Without_01_and_04_it_starts_from_the_template_and_trains_on_the_sample_set_drawn_beside_the_dataset_path()
    {
        var datasetConfig = Path.Combine(dir, "data", "dataset_config.toml");
        var config = new TrainingChoices("textual-inversion", Epochs: 2, NetworkDim: 4, LearningRate: 0.01).Write(Path.Combine(dir, "none.toml"), datasetConfig, Path.Combine(dir, "run"), Templates);

        Assert.Null(config.DatasetConfig);
        Assert.Equal(Path.Combine(dir, "data"), config.TrainDataDir);
        Assert.True(Directory.GetFiles(Path.Combine(dir, "data", NotebookTrainer.World.SampleDataset.FolderName), "*.png").Length > 0);
        Assert.Equal(0.01, config.LearningRate);
        Assert.Equal(5.0, config.MinSnrGamma);   // v_pred_like_loss 0 leaves the template's min-SNR
        Assert.Equal(("sks", "sks"), (config.TokenString, config.OutputName));
    }
}
