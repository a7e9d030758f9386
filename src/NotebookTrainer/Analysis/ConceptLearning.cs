using System.Globalization;
using NotebookTrainer.Datasets;
using NotebookTrainer.Display;
using NotebookTrainer.Embeddings;
using NotebookTrainer.Models;
using NotebookTrainer.Networks;
using NotebookTrainer.Progress;
using NotebookTrainer.Sampling;
using NotebookTrainer.Tagging;
using NotebookTrainer.World;

namespace NotebookTrainer.Analysis;

/// <summary>
/// Did a run teach its concept? The judged <see cref="AttributeAccuracy"/> of the concept prompts (the activation
/// tag with the concept's words, on every background) on the base model alone and with each saved output of the run —
/// a LoRA applied at weight 1, a checkpoint sampled in place of the base model, or an embedding whose word the prompts
/// use — so the accuracy shows per epoch; and of a few seen prompts, to show what training did to what the base
/// already drew.
/// </summary>
public sealed class ConceptLearning : IHtmlRenderable
{
    ConceptLearning(string concept, IReadOnlyList<(string Label, int? Epoch, AttributeAccuracy Concept, AttributeAccuracy Seen)> rows)
    {
        Concept = concept;
        Rows = rows;
    }

    /// <summary>The concept's object tag, e.g. purple_heart.</summary>
    public string Concept { get; }

    /// <summary>"base" first, then each output in epoch order.</summary>
    public IReadOnlyList<(string Label, int? Epoch, AttributeAccuracy Concept, AttributeAccuracy Seen)> Rows { get; }

    public double BaseAccuracy => Rows[0].Concept.Accuracy("concept", Concept) ?? 0;
    public double FinalAccuracy => Rows[^1].Concept.Accuracy("concept", Concept) ?? 0;

    /// <summary>How often the seen prompts show their object, on the base model and after training.</summary>
    public double BaseSeenAccuracy => Rows[0].Seen.Accuracy("concept", false) ?? 0;
    public double FinalSeenAccuracy => Rows[^1].Seen.Accuracy("concept", false) ?? 0;

    /// <summary>The sample set's concept (purple hearts with the activation tag sks) on every background.</summary>
    public static IReadOnlyList<AttributePrompt> SampleConceptPrompts { get; } =
        AttributePrompt.Grid([SampleDataset.ConceptColour], [SampleDataset.ConceptShape], WorldAttributes.Backgrounds, SampleDataset.ActivationTag);

    /// <summary>
    /// Seen objects the base model already draws: each seen colour and each seen shape twice, on every background. The
    /// model draws nearly the same picture for every seed of a prompt, so more prompts with fewer seeds each measure
    /// what training did to the base better than a few prompts with many seeds.
    /// </summary>
    public static IReadOnlyList<AttributePrompt> SeenPrompts { get; } =
    [
        new("red", "circle", "white"), new("blue", "square", "black"), new("yellow", "star", "gradient"), new("green", "triangle", "white"),
        new("green", "circle", "black"), new("yellow", "square", "white"), new("red", "star", "black"), new("blue", "triangle", "gradient"),
    ];

    /// <param name="outputs">The run's outputs in order (<see cref="TrainingRun.Outputs"/>); an embedding stands for the concept prompts' activation tag.</param>
    /// <param name="seenSeeds">Seeds per seen prompt; a quarter of <see cref="AccuracyOptions.Seeds"/> when null.</param>
    public static ConceptLearning Measure(StableDiffusionModel model, string modelPath, WdTaggerModel judge, IReadOnlyList<TrainedOutput> outputs,
        string imageDir, IReadOnlyList<AttributePrompt>? conceptPrompts = null, AccuracyOptions? options = null, int? seenSeeds = null,
        IProgress<ProgressUpdate>? progress = null, CancellationToken cancellationToken = default)
    {
        conceptPrompts ??= SampleConceptPrompts;
        options ??= new AccuracyOptions();
        var rows = new List<(string, int?, AttributeAccuracy, AttributeAccuracy)>();
        (AttributeAccuracy, AttributeAccuracy) Judge(string label, string folderName, DiffusionPipeline pipeline, LoraNetwork? lora)
        {
            var generator = new SampleImageGenerator(pipeline);
            var applied = lora is null ? null : new[] { (lora, 1f) };
            var folder = Path.Combine(imageDir, folderName);
            var concept = AttributeAccuracy.Measure(generator, judge, conceptPrompts, Path.Combine(folder, "concept"), options with { Label = label }, applied, progress, cancellationToken);
            var seen = AttributeAccuracy.Measure(generator, judge, SeenPrompts, Path.Combine(folder, "seen"),
                options with { Label = label, Seeds = seenSeeds ?? Math.Max(1, options.Seeds / 4) }, applied, progress, cancellationToken);
            return (concept, seen);
        }
        var (baseConcept, baseSeen) = Judge("base", "base", StableDiffusionPipeline.Create(model, modelPath), null);
        rows.Add(("base", null, baseConcept, baseSeen));
        foreach (var output in outputs)
        {
            var (concept, seen) = output.Kind switch
            {
                TrainedOutputKind.Lora => JudgeLora(output),
                TrainedOutputKind.Checkpoint => JudgeCheckpoint(output),
                _ => JudgeEmbedding(output),
            };
            rows.Add((output.Label, output.Epoch, concept, seen));
        }
        return new ConceptLearning(conceptPrompts[0].Concept, rows);

        (AttributeAccuracy, AttributeAccuracy) JudgeLora(TrainedOutput output)
        {
            var (network, _) = LoraFile.Load(output.Path, model.Unet, model.TextEncoder, textEncoder2: model.TextEncoder2);
            using (network) return Judge(output.Label, Path.GetFileNameWithoutExtension(output.Path), StableDiffusionPipeline.Create(model, modelPath), network);
        }
        (AttributeAccuracy, AttributeAccuracy) JudgeCheckpoint(TrainedOutput output)
        {
            using var trained = StableDiffusion.Load(output.Path, dtype: model.Unet.conv_in.weight!.dtype);
            return Judge(output.Label, Path.GetFileNameWithoutExtension(output.Path), StableDiffusionPipeline.Create(trained, output.Path, tokenizerDir: trained.TokenizerDir ?? model.TokenizerDir), null);
        }
        (AttributeAccuracy, AttributeAccuracy) JudgeEmbedding(TrainedOutput output)
        {
            // The prompts' activation tag is the word (A1111 would take the file name, which for epoch files is sks-000001).
            using var embedding = TextualInversionEmbedding.Load(output.Path, conceptPrompts[0].ActivationTag);
            try
            {
                return Judge(output.Label, Path.GetFileNameWithoutExtension(output.Path), StableDiffusionPipeline.Create(model, modelPath, embeddings: [embedding]), null);
            }
            finally
            {
                model.TextEncoder.text_model.embeddings.SetAddedTokens(null);   // the base model's prompts again
            }
        }
    }

    /// <summary>Concept accuracy (and its colour and shape) per saved epoch; the base model is epoch 0.</summary>
    public Chart Chart()
    {
        var points = Rows.Select((r, i) => (X: (double)(r.Epoch ?? (i == 0 ? 0 : Rows.Where(x => x.Epoch is not null).Select(x => x.Epoch!.Value).DefaultIfEmpty(0).Max() + 1)), Row: r)).ToList();
        var x = points.Select(p => p.X).ToArray();
        ChartTrace Line(string name, Func<AttributeAccuracy, double?> value) => new LineTrace(name, x, points.Select(p => 100 * (value(p.Row.Concept) ?? 0)).ToArray());
        var (colour, shape) = (Concept.Split('_')[0], Concept.Split('_')[1]);
        return new Chart(
        [
            Line($"{Concept} (concept)", a => a.Accuracy("concept", Concept)),
            Line($"{colour} (colour)", a => a.Accuracy("colour", colour)),
            Line($"{shape} (shape)", a => a.Accuracy("shape", shape)),
        ], XAxisTitle: "epoch (0: the base model)", YAxisTitle: "judged accuracy, %");
    }

    /// <summary>
    /// The concept's images of the first seed: one row per model (the base first, then each output), one column per
    /// concept prompt — the samples without and with what the run trained, side by side.
    /// </summary>
    public SampleGrid Grid(int cellSize = 128)
    {
        var prompts = Rows[0].Concept.Samples.Select(s => s.Prompt).Distinct().ToList();
        return SampleGrid.Compose($"{Concept}, seed {Rows[0].Concept.Samples[0].Seed}", Rows.Select(r => r.Label).ToList(), prompts.Select(p => p.Text).ToList(),
            (row, column) => Rows[row].Concept.Samples.FirstOrDefault(s => s.Prompt == prompts[column]) is { } sample ? File.ReadAllBytes(sample.ImagePath) : null, cellSize);
    }

    static string P(double? value) => value is { } v ? v.ToString("P0", CultureInfo.InvariantCulture) : "–";

    public string ToJson() => System.Text.Json.JsonSerializer.Serialize(new
    {
        concept = Concept,
        rows = Rows.Select(r => new
        {
            label = r.Label,
            epoch = r.Epoch,
            samples = r.Concept.Samples.Count,
            concept = Round(r.Concept.Accuracy("concept", Concept)),
            colour = Round(r.Concept.Accuracy("colour", Concept.Split('_')[0])),
            shape = Round(r.Concept.Accuracy("shape", Concept.Split('_')[1])),
            seen_prompts = Round(r.Seen.Accuracy("concept", false)),
        }),
    }, new System.Text.Json.JsonSerializerOptions { WriteIndented = true });

    static double? Round(double? value) => value is { } v ? Math.Round(v, 4) : null;

    public override string ToString() =>
        $"{Concept}: " + string.Join("; ", Rows.Select(r => $"{r.Label} {P(r.Concept.Accuracy("concept", Concept))}"));

    public string ToHtml()
    {
        var table = Html.Table(["", $"{Concept} (concept)", "its colour", "its shape", "seen prompts (concept)"], Rows.Select(r => new object?[]
        {
            r.Label,
            P(r.Concept.Accuracy("concept", Concept)),
            P(r.Concept.Accuracy("colour", Concept.Split('_')[0])),
            P(r.Concept.Accuracy("shape", Concept.Split('_')[1])),
            P(r.Seen.Accuracy("concept", false)),
        }));
        return $"<div class=\"nt-concept-learning\"><b>Concept learning — {Html.Escape(Concept)}</b>" +
               $" ({Rows[0].Concept.Samples.Count} judged samples per row){table}{Chart().ToHtml()}</div>";
    }
}
