using NotebookTrainer.Models;
using NotebookTrainer.ModelConfigs;

namespace NotebookTrainer.World;

/// <summary>
/// The embedded default base model: Stable Diffusion 1.x's architecture at toy widths, pretrained on the generated
/// world by <c>ntrain pretrain</c> (see <c>PROVENANCE.md</c> beside it), and the judge tagger trained with it. The
/// files are committed under <c>data-templates/embedded/tiny/</c> and travel with every build output; they load
/// through the same <see cref="StableDiffusion.Load"/> path as a downloaded SD 1.5 file.
/// </summary>
public static class WorldModel
{
    public const string ModelFileName = TinyStableDiffusion.FileName;
    public const string TaggerFolder = "tagger";

    /// <summary>Image side the model was pretrained at (latents 8×8).</summary>
    public const int Resolution = 64;

    /// <summary>
    /// U-Net 64/128 channels over two levels (cross-attention at 8×8 and in the middle block), one layer per block; VAE
    /// 16/32/64/128 channels, downsampling by 8 as Stable Diffusion's does; the tiny CLIP text encoder, which stays at
    /// its seeded initialisation. 8×8 latents make a U-Net step about 2.5× cheaper than 16×16 with narrower blocks, and
    /// the U-Net learns the shapes sooner.
    /// </summary>
    public static TinyModelConfigs Configs { get; } = new(
        new UNet2DConditionConfig
        {
            SampleSize = Resolution / 8,
            DownBlockTypes = ["CrossAttnDownBlock2D", "DownBlock2D"],
            UpBlockTypes = ["UpBlock2D", "CrossAttnUpBlock2D"],
            BlockOutChannels = [64, 128],
            LayersPerBlock = 1,
            NormNumGroups = 8,
            CrossAttentionDim = TinyStableDiffusion.TextConfig.HiddenSize,
            AttentionHeads = [2, 4],
        },
        new AutoencoderKLConfig { BlockOutChannels = [16, 32, 64, 128], LayersPerBlock = 1, NormNumGroups = 8, SampleSize = Resolution },
        TinyStableDiffusion.TextConfig);

    /// <summary>
    /// The committed model folder in this build's output (model, config/, tokenizer/, tagger/): beside the library, which
    /// a notebook kernel loads from artifacts/lib while its own base directory is the kernel's.
    /// </summary>
    public static string Directory => Path.Combine(LibraryDirectory, "data-templates", "embedded", "tiny");

    static string LibraryDirectory =>
        typeof(WorldModel).Assembly.Location is { Length: > 0 } location ? Path.GetDirectoryName(location)! : AppContext.BaseDirectory;

    public static string TaggerDirectory => Path.Combine(Directory, TaggerFolder);

    /// <summary>
    /// Copies the model file with its config/ and tokenizer/ folders into <paramref name="dir"/> (skipping files that are
    /// already identical) and returns the model path.
    /// </summary>
    public static string Install(string dir)
    {
        var source = Directory;
        if (!File.Exists(Path.Combine(source, ModelFileName)))
            throw new FileNotFoundException($"{Path.Combine(source, ModelFileName)} is missing from this build; rebuild the project (data-templates/embedded/tiny is copied into every output) or run 'ntrain pretrain'.");
        foreach (var file in System.IO.Directory.EnumerateFiles(source, "*", SearchOption.AllDirectories))
        {
            var relative = Path.GetRelativePath(source, file);
            if (relative.StartsWith(TaggerFolder + Path.DirectorySeparatorChar, StringComparison.Ordinal)) continue;
            var target = Path.Combine(dir, relative);
            if (File.Exists(target) && new FileInfo(target).Length == new FileInfo(file).Length && File.ReadAllBytes(target).AsSpan().SequenceEqual(File.ReadAllBytes(file))) continue;
            IO.AtomicFile.WriteAllBytes(target, File.ReadAllBytes(file));
        }
        return Path.Combine(Path.GetFullPath(dir), ModelFileName);
    }
}
