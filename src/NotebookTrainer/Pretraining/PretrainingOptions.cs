using NotebookTrainer.Tagging;
using NotebookTrainer.World;

namespace NotebookTrainer.Pretraining;

/// <summary>
/// Sizes of a <see cref="WorldPretraining"/> run. The defaults are the run that made the embedded model (PROVENANCE.md has its
/// time per phase); <see cref="Smoke"/> runs every phase in about a minute, for tests.
/// </summary>
public sealed record PretrainingOptions
{
    public required string OutputDir { get; init; }
    public int Seed { get; init; } = 1234;

    /// <summary>VAE training images; <see cref="VaeClutter"/> of them are unnamed clutter (random colours and outlines).</summary>
    public int VaeImages { get; init; } = 6000;
    public double VaeClutter { get; init; } = 0.5;
    public int VaeSteps { get; init; } = 2000;
    public int VaeBatchSize { get; init; } = 32;
    public double VaeLearningRate { get; init; } = 3e-4;

    /// <summary>Steps of the decoder-only pass on whole images after the U-Net (the latents stay as they are).</summary>
    public int DecoderSteps { get; init; } = 300;

    /// <summary>U-Net training images: seen shapes and colours only.</summary>
    public int UnetImages { get; init; } = 10000;
    public int UnetSteps { get; init; } = 4800;
    public int UnetBatchSize { get; init; } = 32;
    public double UnetLearningRate { get; init; } = 1e-3;

    /// <summary>Share of the U-Net's object tags whose shape word is replaced by an unknown word (<see cref="UnknownShapeWords"/>).</summary>
    public double UnknownShapeWordRate { get; init; } = 0.2;

    /// <summary>The judge (<see cref="WorldTagger"/>) trained beside the model.</summary>
    public WorldTaggerOptions Judge { get; init; } = new();

    /// <summary>Images per held-out test set (seen attributes; scenes with a heart or purple) for the VAE's PSNR.</summary>
    public int TestImages { get; init; } = 256;

    /// <summary>Seeds per prompt of the final attribute-accuracy grid (every colour × shape × background).</summary>
    public int EvaluationSeeds { get; init; } = 8;

    public static PretrainingOptions Smoke(string outputDir) => new()
    {
        OutputDir = outputDir,
        VaeImages = 64, VaeSteps = 6, VaeBatchSize = 8, DecoderSteps = 2,
        UnetImages = 64, UnetSteps = 6, UnetBatchSize = 8,
        Judge = new() { TrainImages = 64, Steps = 4, BatchSize = 16, TestImages = 16 },
        TestImages = 8, EvaluationSeeds = 1,
    };
}
