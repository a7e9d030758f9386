using NotebookTrainer.Datasets;
using NotebookTrainer.Training;
using NotebookTrainer.World;

namespace NotebookTrainer.Tests.Training;

/// <summary>Training arguments are the last fallback for dataset options, as in kohya.</summary>
public sealed class TrainingDatasetTests : IDisposable
{
    readonly string root = Directory.CreateTempSubdirectory("nt-training-dataset-").FullName;

    public void Dispose() => Directory.Delete(root, recursive: true);

    [Fact]
    public void Augmentation_and_caption_dropout_from_the_training_config_reach_every_subset_unless_the_dataset_file_says_otherwise()
    {
        SampleDataset.Generate(Path.Combine(root, "data"), seed: 2, count: 2);
        var folders = TrainingConfig.Parse($"""
            pretrained_model_name_or_path = "embedded:tiny"
            train_data_dir = {System.Text.Json.JsonSerializer.Serialize(Path.Combine(root, "data"))}
            caption_extension = ".txt"
            resolution = 64
            flip_aug = true
            color_aug = true
            random_crop = true
            caption_dropout_rate = 0.1
            bucket_reso_steps = 128
            """);
        var subset = Assert.Single(TrainingDataset.Build(folders).Config.Datasets.SelectMany(d => d.Subsets));
        Assert.True(subset.FlipAug && subset.ColorAug && subset.RandomCrop);
        Assert.Equal(0.1, subset.CaptionDropoutRate);
        Assert.Equal(128, TrainingDataset.Build(folders).Config.Datasets[0].BucketResoSteps);

        var datasetFile = Path.Combine(root, "dataset.toml");
        File.WriteAllText(datasetFile, $"""
            [general]
            flip_aug = false
            [[datasets]]
            resolution = 64
              [[datasets.subsets]]
              image_dir = {System.Text.Json.JsonSerializer.Serialize(Directory.GetDirectories(Path.Combine(root, "data"))[0])}
              caption_extension = ".txt"
            """);
        folders.DatasetConfig = datasetFile;
        var fromFile = Assert.Single(TrainingDataset.Build(folders).Config.Datasets.SelectMany(d => d.Subsets));
        Assert.False(fromFile.FlipAug);
        Assert.True(fromFile.ColorAug);
    }
}
