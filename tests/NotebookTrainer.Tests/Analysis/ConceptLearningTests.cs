using NotebookTrainer.Analysis;
using NotebookTrainer.Embeddings;
using NotebookTrainer.Models;
using NotebookTrainer.Networks;
using NotebookTrainer.SafeTensors;
using NotebookTrainer.Tagging;
using NotebookTrainer.World;
using static TorchSharp.torch;

namespace NotebookTrainer.Tests.Analysis;

/// <summary>
/// 06's concept check for whichever method ran: a LoRA is applied, a checkpoint replaces the base model, an embedding
/// gives its word vectors; each row's images come from that output and nothing leaks into the next row.
/// </summary>
[Collection(TorchRandom.Collection)]
public sealed class ConceptLearningTests : IDisposable
{
    readonly string dir = Directory.CreateTempSubdirectory("ntrain-concept-").FullName;

    public void Dispose() => Directory.Delete(dir, recursive: true);

    [Fact]
    public void Each_kind_of_output_is_judged_with_its_own_weights_and_the_base_rows_are_untouched()
    {
        var model = TinyStableDiffusion.Write(Path.Combine(dir, "base"));
        var run = Path.Combine(dir, "run");
        Directory.CreateDirectory(run);
        using var sd = StableDiffusion.Load(model);

        using (var network = LoraNetwork.Create(sd.Unet, sd.TextEncoder, new NetworkOptions { Dim = 2 }))
        {
            using (no_grad()) foreach (var p in network.Parameters()) p.normal_(0, 0.5);
            SafeTensorsWriter.Write(Path.Combine(run, "lora-000001.safetensors"), network.StateDict());
        }
        using (var source = SafeTensorsFile.Open(model))
        {
            var tensors = source.Names.ToDictionary(n => n, n => source.Load(n));
            tensors["model.diffusion_model.out.2.bias"] = tensors["model.diffusion_model.out.2.bias"] + 0.5f;
            SafeTensorsWriter.Write(Path.Combine(run, "tuned.safetensors"), tensors, new Dictionary<string, string> { [TrainingRun.TrainedCheckpointKey] = "dreambooth" });
        }
        foreach (var file in Directory.GetFiles(Path.Combine(dir, "base", TinyStableDiffusion.ConfigFolder), "*", SearchOption.AllDirectories))   // as the trainer writes it
        {
            var target = Path.Combine(run, Path.GetRelativePath(Path.Combine(dir, "base"), file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }
        TextualInversionEmbedding.Save(Path.Combine(run, "sks-000002.safetensors"), randn(2, TinyStableDiffusion.TextConfig.HiddenSize) * 5);
        File.Copy(model, Path.Combine(run, "base-copy.safetensors"));   // a base model beside the outputs is no output
        Assert.Null(TrainingRun.KindOf(Path.Combine(run, "base-copy.safetensors")));
        // Three runs' outputs side by side (TrainingRun.Open would pick one of them): one of each kind, by epoch, final last.
        var outputs = new (string Name, int? Epoch)[] { ("lora-000001", 1), ("sks-000002", 2), ("tuned", null) }
            .Select(f => Path.Combine(run, f.Name + ".safetensors") is var path ? new TrainedOutput(f.Epoch, path, TrainingRun.KindOf(path)!.Value) : null!).ToList();
        Assert.Equal([TrainedOutputKind.Lora, TrainedOutputKind.Embedding, TrainedOutputKind.Checkpoint], outputs.Select(o => o.Kind));

        // A real judge, barely trained: these checks are about which weights drew each row, not about accuracy.
        var judgeFit = WorldTagger.Train(Path.Combine(dir, "judge"), 3, new WorldTaggerOptions { TrainImages = 32, Steps = 2, BatchSize = 16, TestImages = 8 });
        using var judge = WdTaggerModel.Load(judgeFit.ModelDirectory);
        var options = new AccuracyOptions { Seeds = 1, Steps = 2 };
        var learning = ConceptLearning.Measure(sd, model, judge, outputs, Path.Combine(dir, "judged"), options: options, seenSeeds: 1);

        Assert.Equal(["base", "epoch 1", "epoch 2", "final"], learning.Rows.Select(r => r.Label));
        Assert.Equal(ConceptLearning.SampleConceptPrompts.Count, learning.Rows[0].Concept.Samples.Count);
        Assert.Equal(ConceptLearning.SeenPrompts.Count, learning.Rows[0].Seen.Samples.Count);
        Assert.All(learning.Rows.SelectMany(r => r.Concept.Samples.Concat(r.Seen.Samples)), s => Assert.True(File.Exists(s.ImagePath)));
        static byte[][] Images(AttributeAccuracy a) => a.Samples.Select(s => File.ReadAllBytes(s.ImagePath)).ToArray();
        bool SameImages(AttributeAccuracy a, AttributeAccuracy b) => Images(a).Zip(Images(b)).All(p => p.First.AsSpan().SequenceEqual(p.Second));
        var (baseRow, lora, embedding, checkpoint) = (learning.Rows[0], learning.Rows[1], learning.Rows[2], learning.Rows[3]);
        Assert.False(SameImages(baseRow.Concept, lora.Concept), "the LoRA was not applied");
        Assert.False(SameImages(baseRow.Concept, checkpoint.Concept), "the checkpoint was not sampled");
        Assert.False(SameImages(baseRow.Seen, checkpoint.Seen), "the checkpoint was not sampled for the seen prompts");
        Assert.False(SameImages(baseRow.Concept, embedding.Concept), "the prompts' sks did not use the embedding's vectors (an epoch file's name is not the word)");
        Assert.True(SameImages(baseRow.Seen, embedding.Seen), "prompts without the word changed with the embedding loaded");

        // Nothing stays applied: the base model samples as before.
        var again = ConceptLearning.Measure(sd, model, judge, [], Path.Combine(dir, "again"), options: options, seenSeeds: 1);
        Assert.True(SameImages(baseRow.Concept, again.Rows[0].Concept));
        Assert.Contains("Concept learning — purple_heart", learning.ToHtml());
        var grid = learning.Grid();
        Assert.Equal(["base", "epoch 1", "epoch 2", "final"], grid.RowLabels);
        Assert.Equal(ConceptLearning.SampleConceptPrompts.Select(p => p.Text), grid.ColumnLabels);
    }

    [Fact]
    public void Ntrain_judge_says_what_is_missing()
    {
        var empty = Directory.CreateDirectory(Path.Combine(dir, "empty")).FullName;
        var error = new StringWriter();
        var saved = Console.Error;
        Console.SetError(error);
        try
        {
            Assert.Equal(2, NotebookTrainer.Cli.Ntrain.Run(["judge", Path.Combine(dir, "nowhere")]));
            Assert.Equal(2, NotebookTrainer.Cli.Ntrain.Run(["judge", empty]));
            TextualInversionEmbedding.Save(Path.Combine(empty, "sks.safetensors"), zeros(1, 4));
            Assert.Equal(2, NotebookTrainer.Cli.Ntrain.Run(["judge", empty]));
        }
        finally
        {
            Console.SetError(saved);
        }
        Assert.Equal(
        [
            $"ntrain judge: {Path.Combine(dir, "nowhere")} does not exist; give the output_dir of a training run.",
            $"ntrain judge: {empty} holds no LoRA, checkpoint or embedding to judge.",
            $"ntrain judge: {empty} has no run/training.toml naming its base model; give --model PATH.",
        ], error.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }
}
