using NotebookTrainer.Analysis;
using NotebookTrainer.Embeddings;
using NotebookTrainer.Networks;
using NotebookTrainer.SafeTensors;
using NotebookTrainer.Tests.SafeTensors;
using NotebookTrainer.Tests.Sampling;

namespace NotebookTrainer.Tests.Analysis;

/// <summary>What 05's last cell and 06 show for a run's file, chosen by what the file holds.</summary>
public sealed class TrainedOutputReportTests
{
    [Fact]
    public void A_lora_shows_its_report_an_embedding_its_vectors_and_anything_else_is_refused_by_name()
    {
        using var dir = new TempDir();
        using var tiny = new TinyPipeline();
        using (var network = LoraNetwork.Create(tiny.Unet, null, new NetworkOptions { Dim = 2 }))
            SafeTensorsWriter.Write(dir.File("mine.safetensors"), network.StateDict());
        Assert.IsType<LoraReport>(TrainedOutputReport.For(dir.File("mine.safetensors")));

        TextualInversionEmbedding.Save(dir.File("<b>sks&.safetensors"), TorchSharp.torch.zeros(2, 8));
        var html = TrainedOutputReport.For(dir.File("<b>sks&.safetensors")).ToHtml();
        Assert.Contains("2 vectors of size 8", html);
        Assert.Contains("&lt;b&gt;sks&amp;", html);
        Assert.DoesNotContain("<b>", html);

        File.WriteAllText(dir.File("notes.safetensors"), "not a safetensors file");
        var error = Assert.Throws<InvalidDataException>(() => TrainedOutputReport.For(dir.File("notes.safetensors")));
        Assert.Contains(dir.File("notes.safetensors"), error.Message);
    }
}
