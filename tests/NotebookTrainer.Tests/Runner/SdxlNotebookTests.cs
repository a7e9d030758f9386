using NotebookTrainer.Checkpoints;
using NotebookTrainer.Networks;
using NotebookTrainer.Runner;
using NotebookTrainer.SafeTensors;
using static NotebookTrainer.Tests.Runner.RunnerWorkspace;

namespace NotebookTrainer.Tests.Runner;

/// <summary>
/// The notebooks with <c>model=tiny-xl</c>: 01 picks the random-weight tiny SDXL, 05 trains an SDXL LoCon on it
/// (sdxl_train_network.py's names and metadata) and 06 analyzes and judges it. 00 (the library build) is left out, and
/// two epochs of 20 batches of 16 with one judging seed keep it short (1 min 36 s on the 2-core dev box).
/// </summary>
[Collection(RunnerCollection.Name)]
[Trait("Category", "SdxlNotebooks")]
public sealed class SdxlNotebookTests : IDisposable
{
    readonly string root = Path.Combine(Path.GetTempPath(), $"nt-nb-xl-{Guid.NewGuid():N}");

    public void Dispose()
    {
        if (Directory.Exists(root)) Directory.Delete(root, recursive: true);
    }

    [Fact]
    public void Notebooks_01_to_06_train_and_analyze_an_sdxl_lora_on_tiny_xl()
    {
        var notebooks = Directory.GetFiles(Path.Combine(RepositoryRoot, "notebooks"), "0*.ipynb").Order(StringComparer.Ordinal).Skip(1).ToList();
        var output = Path.Combine(root, "executed");
        var runDir = Path.Combine(root, "runs", "train");
        var log = new StringWriter();
        var result = NotebookRunner.Run(new RunnerOptions(notebooks, output, null, new Dictionary<string, string>
        {
            ["model"] = "tiny-xl",
            ["modelsDir"] = Path.Combine(root, "models"),
            ["trainingConfig"] = Path.Combine(root, "config", "training.toml"),
            ["dataDir"] = Path.Combine(root, "data"),
            ["datasetConfig"] = Path.Combine(root, "data", "dataset_config.toml"),
            ["runDir"] = runDir,
            ["runsDir"] = Path.Combine(root, "runs"),
            ["epochs"] = "2",
            ["batchSize"] = "16",
            ["qualitySeeds"] = "1",
        }), log);
        Assert.True(result.ExitCode == 0, $"{result.Error}\n{log}");
        Assert.Equal(["01", "02", "03", "04", "05", "06"], result.Runs.Select(r => r.Notebook.FileName[..2]));

        var baseModel = Path.Combine(root, "models", "tiny-xl", "tiny-sd.safetensors");
        Assert.Equal(ModelArchitecture.StableDiffusionXL, ModelInspection.Inspect(baseModel).Architecture);

        using (var lora = SafeTensorsFile.Open(Path.Combine(runDir, "output", "sample_locon.safetensors")))
        {
            Assert.Equal(LoraFile.SdxlBaseModelVersion, lora.Metadata["ss_base_model_version"]);
            Assert.Contains(lora.Names, n => n.StartsWith("lora_unet_input_blocks_4_1_transformer_blocks_0_attn2_to_k.", StringComparison.Ordinal));
            Assert.Contains(lora.Names, n => n.StartsWith("lora_te2_text_model_encoder_layers_0_", StringComparison.Ordinal));
        }
        Assert.NotEmpty(Directory.GetFiles(Path.Combine(runDir, "output", "sample"), "*.png"));

        var analyzed = File.ReadAllText(Path.Combine(output, "06-analyze.ipynb"));
        Assert.Contains(LoraFile.SdxlBaseModelVersion, analyzed);
        Assert.NotEmpty(Directory.GetFiles(Path.Combine(runDir, "output", "judged"), "*.png", SearchOption.AllDirectories));
    }
}
