using NotebookTrainer.Analysis;
using NotebookTrainer.Sampling;
using NotebookTrainer.Tests.Sampling;

namespace NotebookTrainer.Tests.Analysis;

public class QualitySignalTests
{
    [Fact]
    public void DistancesCompareBaseAndLoraSamplesWithTheTrainingColour()
    {
        using var tiny = new TinyPipeline();
        using var lora = tiny.RandomLora(3);
        var generator = new SampleImageGenerator(tiny.Pipeline);
        var prompts = new[] { new SamplePrompt("sks, red circle") { Width = 64, Height = 64, Steps = 2 }, new SamplePrompt("sks, blue star") { Width = 64, Height = 64, Steps = 2 } };
        double[] target = [0.9, 0.1, 0.1];
        var signal = QualitySignal.Measure(generator, prompts, lora, 1f, target, seed: 4);

        Assert.Equal(2, signal.Comparisons.Count);
        var baseImage = generator.GeneratePng(prompts[0], 4, "ddim", 2);
        Assert.Equal(ImageTensors.MeanColour(baseImage), signal.Comparisons[0].Base);
        var expected = Math.Sqrt(signal.Comparisons[0].Base.Zip(target, (a, b) => (a - b) * (a - b)).Sum());
        Assert.Equal(expected, signal.Comparisons[0].BaseDistance, 12);
        Assert.NotEqual(signal.Comparisons[0].Base, signal.Comparisons[0].WithLora);
        Assert.Equal(1 - signal.MeanLoraDistance / signal.MeanBaseDistance, signal.Improvement, 12);

        var none = QualitySignal.Measure(generator, prompts, lora, 0f, target, seed: 4);
        Assert.Equal(0, none.Improvement, 12);
        Assert.Contains("improvement", none.ToHtml());
    }
}
