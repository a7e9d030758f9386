using System.Text.Json;
using NotebookTrainer.Datasets;
using NotebookTrainer.Datasets.Config;

namespace NotebookTrainer.Tests.Datasets;

public sealed class KohyaDatasetMetadataTests : TempDir
{
    [Fact]
    public void Tag_frequency_dataset_dirs_and_bucket_info_follow_kohyas_shape()
    {
        WriteText("train/5_sks dog/a.txt", "sks, Dog, red collar");
        Write("train/5_sks dog/a.png", TestImages.Png(512, 512));
        WriteText("train/5_sks dog/b.txt", "sks,dog,, sitting");
        Write("train/5_sks dog/b.png", TestImages.Png(768, 512));
        Write("train/5_sks dog/c.png", TestImages.Png(512, 512)); // no caption: class tokens "sks dog"
        var plan = DatasetPlan.Build(DatasetConfig.FromFolders(Path.Combine(Root, "train"), null,
            new DatasetArguments { Resolution = 512, EnableBucket = true, CaptionExtension = ".txt" }));

        var tags = KohyaDatasetMetadata.TagFrequency(plan)["5_sks dog"];
        Assert.Equal(new Dictionary<string, int> { ["sks"] = 2, ["dog"] = 2, ["red collar"] = 1, ["sitting"] = 1, ["sks dog"] = 1 }, tags);
        Assert.Equal((5, 3), KohyaDatasetMetadata.DatasetDirs(plan)["5_sks dog"]);

        using var dirs = JsonDocument.Parse(KohyaDatasetMetadata.DatasetDirsJson(plan));
        Assert.Equal(5, dirs.RootElement.GetProperty("5_sks dog").GetProperty("n_repeats").GetInt32());
        using var info = JsonDocument.Parse(KohyaDatasetMetadata.BucketInfoJson(plan));
        var buckets = info.RootElement.GetProperty("buckets");
        Assert.Equal("[512,512]", buckets.GetProperty("0").GetProperty("resolution").GetRawText());
        Assert.Equal(10, buckets.GetProperty("0").GetProperty("count").GetInt32());
        Assert.Equal("[640,384]", buckets.GetProperty("1").GetProperty("resolution").GetRawText());
        Assert.Equal(5, buckets.GetProperty("1").GetProperty("count").GetInt32());
        Assert.True(info.RootElement.GetProperty("mean_img_ar_error").GetDouble() > 0);
        using var freq = JsonDocument.Parse(KohyaDatasetMetadata.TagFrequencyJson(plan));
        Assert.Equal(2, freq.RootElement.GetProperty("5_sks dog").GetProperty("dog").GetInt32());
    }
}
