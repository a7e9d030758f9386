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
