using NotebookTrainer.Datasets.Config;

namespace NotebookTrainer.Tests.Datasets;

public sealed class DataTemplateTests
{
    static string Template(string name)
    {
        var dir = AppContext.BaseDirectory;
        while (dir != null && !Directory.Exists(Path.Combine(dir, "data-templates", name)) && !File.Exists(Path.Combine(dir, "data-templates", name)))
            dir = Path.GetDirectoryName(dir);
        return Path.Combine(dir ?? throw new FileNotFoundException($"data-templates/{name} not found above {AppContext.BaseDirectory}"), "data-templates", name);
    }

    [Theory]
    [InlineData("dataset-dreambooth-class-tokens.toml", false, "sks dog", 10)]
    [InlineData("dataset-dreambooth-captions.toml", false, "sks shape", 10)]
    [InlineData("dataset-finetune-metadata.toml", true, null, 1)]
    public void Templates_load_without_warnings(string name, bool fineTune, string? classTokens, int repeats)
    {
        var config = DatasetConfig.Load(Template(name));

        Assert.Empty(config.Warnings);
        var dataset = Assert.Single(config.Datasets);
        Assert.Equal(fineTune, dataset.IsFineTune);
        Assert.True(dataset.EnableBucket);
        Assert.Equal((512, 512), dataset.Resolution);
        var subset = Assert.Single(dataset.Subsets);
        Assert.Equal(classTokens, subset.ClassTokens);
        Assert.Equal(repeats, subset.NumRepeats);
    }
}
