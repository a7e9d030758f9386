using NotebookTrainer.Datasets;
using NotebookTrainer.Datasets.Config;
using NotebookTrainer.Models.Clip;
using NotebookTrainer.ModelConfigs;
using NotebookTrainer.Models.UNet;
using NotebookTrainer.Models.Vae;
using NotebookTrainer.Training;
using NotebookTrainer.World;
using static TorchSharp.torch;

namespace NotebookTrainer.Tests.Training;

/// <summary>The tiny SD1-shaped models (random weights from a fixed seed) and the generated sample dataset.</summary>
static class TinyTrainingSetup
{
    public static readonly CLIPTextConfig TextConfig = new()
    {
        VocabSize = 64, HiddenSize = 64, IntermediateSize = 128, NumHiddenLayers = 2, NumAttentionHeads = 2,
        BosTokenId = 62, EosTokenId = 63,
    };

    /// <summary>Word-level tokenizer over the tiny vocabulary: BOS, one id per word, EOS, padded with EOS to 77.</summary>
    public static int[][] Tokenize(string caption)
    {
        var ids = new List<int> { TextConfig.BosTokenId };
        foreach (var word in caption.Split([' ', ',', '_'], StringSplitOptions.RemoveEmptyEntries).Take(75))
            ids.Add(1 + (int)((uint)word.ToLowerInvariant().Aggregate(17, (h, c) => unchecked(h * 31 + c)) % 60));
        while (ids.Count < 77) ids.Add(TextConfig.EosTokenId);
        return [ids.ToArray()];
    }

    public static TrainingModels Models(int seed = 1)
    {
        manual_seed(seed);
        return new TrainingModels(new UNet2DConditionModel(UNet2DConditionConfig.Tiny), new CLIPTextModel(TextConfig), new AutoencoderKL(AutoencoderKLConfig.Tiny),
            Tokenize, "tiny-test");
    }

    public static DatasetPlan Dataset(string dir, int images = 4, int batchSize = 4)
    {
        SampleDataset.Generate(dir, seed: 5, count: images);
        var config = DatasetConfig.FromFolders(dir, null, new DatasetArguments { Resolution = 64, BatchSize = batchSize, CaptionExtension = ".txt" });
        return DatasetPlan.Build(config);
    }

    public static TrainingConfig Config(string output, string extra = "") => TrainingConfig.Parse($"""
        pretrained_model_name_or_path = "embedded:tiny"
        train_data_dir = "unused: the test passes its DatasetPlan"
        output_dir = {System.Text.Json.JsonSerializer.Serialize(output)}
        output_name = "tiny"
        network_dim = 4
        network_alpha = 2
        learning_rate = 1e-3
        seed = 7
        cache_latents = true
        {extra}
        """);
}

/// <summary>Reports synchronously (Progress&lt;T&gt; posts to the thread pool) and can cancel at a given step.</summary>
sealed class StepWatcher(CancellationTokenSource? cancel = null, int cancelAtStep = int.MaxValue) : IProgress<TrainingProgress>
{
    public List<TrainingProgress> Reports { get; } = [];

    public void Report(TrainingProgress value)
    {
        Reports.Add(value);
        if (value.Step >= cancelAtStep) cancel?.Cancel();
    }
}
