using System.Text.Json;
using NotebookTrainer.Datasets;
using NotebookTrainer.Training;
using NotebookTrainer.World;
using static TorchSharp.torch;

namespace NotebookTrainer.Tests.Training;

/// <summary>
/// What the DreamBooth, fine-tuning, Textual Inversion and validation tests share: the tiny model written to disk
/// (random weights, real file layout and tokenizer), a DreamBooth folder set (4 images in <c>10_sks heart</c>, captions
/// "sks, …"; optionally 4 regularisation images in <c>1_heart</c>) and configs that name them.
/// </summary>
static class MethodTestSetup
{
    public static string Json(string value) => JsonSerializer.Serialize(value);

    /// <summary>Writes <c>train/10_sks heart</c> (and <c>reg/1_heart</c>); returns (train_data_dir, reg_data_dir).</summary>
    public static (string Train, string? Reg) DreamBoothFolders(string dir, int images = 4, bool reg = false)
    {
        var train = Path.Combine(dir, "train");
        SampleDataset.Generate(train, seed: 5, count: images);
        if (!reg) return (train, null);
        var regDir = Path.Combine(dir, "reg");
        WorldDataset.Write(Path.Combine(regDir, "1_heart"), SceneOptions.Pretraining, count: 4, seed: 9, side: 64);
        return (train, regDir);
    }

    /// <summary>
    /// <paramref name="images"/> purple-heart images captioned "sks, …" in <c>1_sks heart</c> (one repeat, so an epoch
    /// is images / batch steps) at 64 px.
    /// </summary>
    public static DatasetPlan OneRepeat(string dir, int images, int batchSize, int seed = 5)
    {
        WorldDataset.Write(Path.Combine(dir, "1_sks heart"), SampleDataset.Scenes, images, seed, side: 64, activationTag: SampleDataset.ActivationTag);
        return DatasetPlan.Build(NotebookTrainer.Datasets.Config.DatasetConfig.FromFolders(dir, null,
            new NotebookTrainer.Datasets.Config.DatasetArguments { Resolution = 64, BatchSize = batchSize, CaptionExtension = ".txt" }));
    }

    /// <summary>A training config over the folders at 64 px, batch 2, cached latents, seed 7.</summary>
    public static TrainingConfig Config(string model, string output, (string Train, string? Reg) data, string extra = "") => TrainingConfig.Parse($"""
        pretrained_model_name_or_path = {Json(model)}
        train_data_dir = {Json(data.Train)}
        {(data.Reg is { } reg ? $"reg_data_dir = {Json(reg)}" : "")}
        caption_extension = ".txt"
        resolution = 64
        train_batch_size = 2
        output_dir = {Json(output)}
        learning_rate = 1e-3
        seed = 7
        cache_latents = true
        {extra}
        """);

    public static Dictionary<string, Tensor> Copy(nn.Module module) =>
        module.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.detach().clone());

    public static bool Same(Tensor a, Tensor b) => a.shape.SequenceEqual(b.shape) && a.dtype == b.dtype && a.eq(b).all().item<bool>();
}

/// <summary>Calls back synchronously after every step (e.g. to copy weights at a given step).</summary>
sealed class AfterStep(Action<TrainingProgress> action) : IProgress<TrainingProgress>
{
    public void Report(TrainingProgress value) => action(value);
}
