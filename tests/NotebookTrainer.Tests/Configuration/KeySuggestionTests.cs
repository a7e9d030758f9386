using NotebookTrainer.Configuration;
using NotebookTrainer.Training;

namespace NotebookTrainer.Tests.Configuration;

/// <summary>One "did you mean" for dataset and training configs: the same typo gets the same kind of answer in both.</summary>
public sealed class KeySuggestionTests
{
    [Fact]
    public void The_closest_key_within_a_third_of_the_length_is_suggested_and_nothing_further()
    {
        string[] keys = ["network_dim", "network_alpha", "caption_extension"];
        Assert.Equal("network_dim", KeySuggestion.Closest("netwrok_dim", keys));
        Assert.Equal("caption_extension", KeySuggestion.Closest("captoin_extnsion", keys));
        Assert.Null(KeySuggestion.Closest("resolution", keys));
    }

    [Fact]
    public void Training_and_dataset_configs_both_suggest_through_it()
    {
        var training = Assert.Throws<ConfigException>(() => TrainingConfig.Parse("pretrained_model_name_or_path = \"x\"\ntrain_data_dir = \"d\"\ncaptoin_extnsion = \".txt\"\n"));
        Assert.Contains("did you mean 'caption_extension'?", training.Message);
        var dataset = Assert.ThrowsAny<Exception>(() => NotebookTrainer.Datasets.Config.DatasetConfig.Parse("[general]\ncaptoin_extnsion = \".txt\"\n[[datasets]]\n[[datasets.subsets]]\nimage_dir = \"x\"\n", "d.toml"));
        Assert.Contains("Did you mean 'caption_extension'?", dataset.Message);
    }
}
