using NotebookTrainer.Checkpoints;
using NotebookTrainer.Display;
using NotebookTrainer.Embeddings;

namespace NotebookTrainer.Analysis;

/// <summary>What a run wrote, shown by its kind: a LoRA's report, a checkpoint's inspection, an embedding's vectors.</summary>
public static class TrainedOutputReport
{
    public static IHtmlRenderable For(string path, int topTags = 20)
    {
        if (Directory.Exists(path)) return ModelInspection.Inspect(path);
        switch (TrainingRun.KindOf(path))
        {
            case TrainedOutputKind.Lora:
                return LoraReport.Load(path, topTags);
            case TrainedOutputKind.Checkpoint:
                return ModelInspection.Inspect(path);
            case TrainedOutputKind.Embedding:
                using (var embedding = TextualInversionEmbedding.Load(path))
                    return new HtmlFragment("<p>" + Html.Escape($"embedding '{embedding.Word}' in {Path.GetFileName(path)}: {embedding.Vectors.shape[0]} vectors of size {embedding.Vectors.shape[1]} (emb_params, as A1111 and ComfyUI load it)") + "</p>");
            default:
                throw new InvalidDataException($"{path}: not a LoRA, checkpoint or embedding this trainer wrote.");
        }
    }
}
