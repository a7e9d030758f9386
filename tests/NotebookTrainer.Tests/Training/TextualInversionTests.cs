using System.Text.Json;
using NotebookTrainer.Cli;
using NotebookTrainer.Embeddings;
using NotebookTrainer.Models;
using NotebookTrainer.Sampling;
using NotebookTrainer.Tokenizers;
using NotebookTrainer.Training;
using NotebookTrainer.World;
using static NotebookTrainer.Tests.Training.MethodTestSetup;
using static TorchSharp.torch;

namespace NotebookTrainer.Tests.Training;

/// <summary>train_textual_inversion.py: new vectors for a new word, nothing else changes, A1111's file, usable in prompts.</summary>
[Collection(TorchRandom.Collection)]
public sealed class TextualInversionTests : IDisposable
{
    readonly string dir = Directory.CreateTempSubdirectory("ntrain-ti-").FullName;

    public void Dispose() => Directory.Delete(dir, recursive: true);

    const string Settings = "token_string = \"sks\"\ninit_word = \"heart\"\nnum_vectors_per_token = 3\nmax_train_steps = 4";

    [Fact]
    public void Only_the_new_vectors_train_every_model_weight_stays_bit_identical_and_a_resume_is_exact()
    {
        var model = TinyStableDiffusion.Write(Path.Combine(dir, "base"));
        var data = DreamBoothFolders(Path.Combine(dir, "data"));
        var output = Path.Combine(dir, "straight");
        var config = Config(model, output, data, Settings);
        var dataset = TrainingDataset.Build(config);
        Tensor trained;
        using (var models = TrainingModelLoader.Load(config, CPU, method: TrainingMethod.TextualInversion))
        {
            var before = new[] { Copy(models.Unet), Copy(models.TextEncoder), Copy(models.Vae) };
            var heart = ClipTokenizer.Load(models.TokenizerDir!).Encode("heart");
            var heartRow = models.TextEncoder.text_model.embeddings.token_embedding.weight![heart[0]].clone();
            using var trainer = new Trainer(config, dataset, models, CPU, method: TrainingMethod.TextualInversion);
            var vectors = trainer.Target.Parameters().Single();
            Assert.Equal([3L, TinyStableDiffusion.TextConfig.HiddenSize], vectors.shape);
            for (var i = 0; i < 3; i++) Assert.True(Same(vectors[i].detach(), heartRow), $"vector {i} does not start from init_word's row");
            Assert.Equal(3L * TinyStableDiffusion.TextConfig.HiddenSize, trainer.Plan.TrainableParameters);

            var result = trainer.Train();
            Assert.Equal(Path.Combine(output, "sks.safetensors"), result.OutputPath);   // named after token_string
            trained = vectors.detach().clone();
            Assert.False(Same(trained[0], heartRow), "the vectors did not train");
            var after = new[] { Copy(models.Unet), Copy(models.TextEncoder), Copy(models.Vae) };
            for (var m = 0; m < 3; m++)
                foreach (var (key, value) in before[m])
                    Assert.True(Same(value, after[m][key]), $"{key} changed; only the new vectors may train");
        }

        using (var saved = TextualInversionEmbedding.Load(Path.Combine(output, "sks.safetensors")))
            Assert.True(Same(saved.Vectors, trained), "the file does not hold the trained vectors");

        var half = Path.Combine(dir, "half");
        string state;
        using (var models = TrainingModelLoader.Load(Config(model, half, data, Settings), CPU, method: TrainingMethod.TextualInversion))
        using (var trainer = new Trainer(Config(model, half, data, Settings), dataset, models, CPU, method: TrainingMethod.TextualInversion))
        using (var cancel = new CancellationTokenSource())
            state = trainer.Train(new StepWatcher(cancel, cancelAtStep: 2), cancel.Token).StatePath!;
        using (var models = TrainingModelLoader.Load(Config(model, half, data, Settings), CPU, method: TrainingMethod.TextualInversion))
        using (var trainer = new Trainer(Config(model, half, data, Settings), dataset, models, CPU, method: TrainingMethod.TextualInversion))
        {
            trainer.Train(resumeFrom: state);
            Assert.True(Same(trainer.Target.Parameters().Single().detach(), trained), "the resumed vectors differ");
        }
    }

    /// <summary>A1111 accepts a safetensors embedding with exactly one tensor (n, 768 for SD 1.x); ComfyUI reads emb_params.</summary>
    [Fact]
    public void The_file_has_one_emb_params_tensor_and_prompts_with_the_word_use_its_vectors()
    {
        var model = TinyStableDiffusion.Write(Path.Combine(dir, "base"));
        var data = DreamBoothFolders(Path.Combine(dir, "data"));
        var output = Path.Combine(dir, "out");
        var prompts = Path.Combine(dir, "prompts.txt");
        File.WriteAllText(prompts, "a sks on a white background --w 64 --h 64 --d 3 --s 2\n");
        var config = Config(model, output, data, Settings.Replace("max_train_steps = 4", "max_train_steps = 2") + $"\nsave_precision = \"fp16\"\nsample_every_n_steps = 2\nsample_prompts = {Json(prompts)}");
        using (var models = TrainingModelLoader.Load(config, CPU, method: TrainingMethod.TextualInversion))
        using (var trainer = new Trainer(config, TrainingDataset.Build(config), models, CPU, method: TrainingMethod.TextualInversion))
            trainer.Train();
        Assert.Single(Directory.GetFiles(Path.Combine(output, "sample"), "sks_000002_00_*.png"));

        // The raw header, as a reader in another program sees it.
        var file = Path.Combine(output, "sks.safetensors");
        var bytes = File.ReadAllBytes(file);
        var header = JsonDocument.Parse(bytes.AsMemory(8, (int)BitConverter.ToUInt64(bytes, 0))).RootElement;
        Assert.Equal(["__metadata__", "emb_params"], header.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal));
        Assert.Equal("F16", header.GetProperty("emb_params").GetProperty("dtype").GetString());
        Assert.Equal([3, TinyStableDiffusion.TextConfig.HiddenSize], header.GetProperty("emb_params").GetProperty("shape").EnumerateArray().Select(e => e.GetInt32()));
        Assert.Equal("stable-diffusion-v1/textual-inversion", header.GetProperty("__metadata__").GetProperty("modelspec.architecture").GetString());

        // In our own prompts: the word becomes the 3 vectors; text without it encodes as before.
        using var sd = StableDiffusion.Load(model);
        var plain = StableDiffusionPipeline.Create(sd, model);
        var withoutWord = plain.Prompts.Embed("a purple heart").clone();
        var before = plain.Prompts.Embed("a sks heart").clone();
        using var embedding = TextualInversionEmbedding.Load(file);
        var pipeline = StableDiffusionPipeline.Create(sd, model, embeddings: [embedding]);
        Assert.True(Same(withoutWord, pipeline.Prompts.Embed("a purple heart")));
        var with = pipeline.Prompts.Embed("a sks heart");
        Assert.False(Same(before, with));
        Assert.Equal(before.shape, with.shape);

        // And through the CLI, as A1111 does: the file name is the word.
        var sampleOut = Path.Combine(dir, "samples");
        Assert.Equal(0, Ntrain.Run(["sample", "--model", model, "--prompts", prompts, "--out", sampleOut, "--embedding", file, "--steps", "2"]));
        Assert.Single(Directory.GetFiles(Path.Combine(sampleOut, "sample"), "*.png"));
    }

    [Fact]
    public void Mistakes_are_named_with_their_fix()
    {
        var model = TinyStableDiffusion.Write(Path.Combine(dir, "base"));
        var data = DreamBoothFolders(Path.Combine(dir, "data"));
        TrainingException Fails(string settings)
        {
            var config = Config(model, Path.Combine(dir, "out"), data, settings);
            using var models = TrainingModelLoader.Load(config, CPU, method: TrainingMethod.TextualInversion);
            return Assert.Throws<TrainingException>(() => new Trainer(config, TrainingDataset.Build(config), models, CPU, method: TrainingMethod.TextualInversion));
        }
        Assert.Contains("token_string is required", Fails("").Message);
        Assert.Contains("no training caption contains token_string \"zzq\"", Fails("token_string = \"zzq\"").Message);
        Assert.Contains("writes no pickles", Fails("token_string = \"sks\"\nsave_model_as = \"pt\"").Message);
    }

    [Fact]
    public void Added_words_encode_as_their_ids_whole_word_and_case_insensitive()
    {
        var tokenizer = ClipTokenizer.Load(Path.Combine(Path.GetDirectoryName(TinyStableDiffusion.Write(Path.Combine(dir, "base")))!, "tokenizer"));
        var words = tokenizer.WithAddedWords(new Dictionary<string, int[]> { ["mychar"] = [2000, 2001], ["mychar2"] = [2002] });
        var heart = tokenizer.Encode("heart");
        var comma = tokenizer.Encode(",");
        Assert.Equal([.. heart, 2000, 2001, .. comma, 2002, .. heart], words.Encode("heart MyChar, mychar2 heart"));
        Assert.Equal(tokenizer.Encode("mycharacter"), words.Encode("mycharacter"));   // inside a longer word it is plain text
        Assert.Equal(["mychar", "mychar1"], words.Tokenize("mychar"));
        Assert.Throws<ArgumentException>(() => words.WithAddedWords(new Dictionary<string, int[]> { ["MYCHAR"] = [3000] }));
        Assert.Throws<ArgumentException>(() => tokenizer.WithAddedWords(new Dictionary<string, int[]> { ["two words"] = [3000] }));
    }
}
