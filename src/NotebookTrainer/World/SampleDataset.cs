
namespace NotebookTrainer.World;

/// <summary>One generated sample image with its ground-truth tags (booru form, underscores, no activation tag).</summary>
public sealed record SampleImage(string Path, int Width, int Height, IReadOnlyList<string> Tags);

/// <summary>
/// The built-in training set of the notebooks: a concept the embedded base model has never seen — purple hearts,
/// drawn from the generated world (<see cref="WorldAttributes"/>) with the activation tag <c>sks</c> — in the sizes
/// and aspect ratios that exercise bucketing, so a LoRA trained on it shows whether training taught something.
/// <para>Layout (kohya legacy folder naming, usable as <c>train_data_dir</c>):
/// <c>&lt;dir&gt;/10_sks heart/000.png</c> + <c>000.txt</c>, …</para>
/// <para>Captions hold the activation tag first, then the tags with underscores shown as spaces (what the WD14
/// tagger writes with remove_underscore): <c>sks, purple heart, white background</c>.</para>
/// Same seed and count → byte-identical files.
/// </summary>
public static class SampleDataset
{
    public const string ActivationTag = "sks";
    public const int Repeats = 10;
    public const string ClassTokens = "sks heart";
    public static readonly string FolderName = $"{Repeats}_{ClassTokens}";
    public const int DefaultCount = 32;

    public const string ConceptColour = WorldAttributes.HeldOutColour;
    public const string ConceptShape = WorldAttributes.HeldOutShape;

    /// <summary>
    /// The scenes the set is drawn from: purple hearts, mostly one, on every background in turn — the gradient, on which
    /// the base model draws shapes worst, twice as often as white and black. Measured on the shipped base (LoCon of 05,
    /// 5 epochs, 24 judged samples): random backgrounds and 30 % pairs 62 %, backgrounds in turn 67 %, this 71 %.
    /// </summary>
    public static SceneOptions Scenes { get; } = SceneOptions.Concept(ConceptColour, ConceptShape) with
    {
        TwoObjects = 0.15,
        CycleBackgrounds = true,
        Backgrounds = ["white", "gradient", "black", "gradient"],
    };

    /// <summary>Width×height cycle: square, landscape, portrait, wide, and a few small images that need upscaling.</summary>
    static readonly (int W, int H)[] Sizes =
    [
        (512, 512), (768, 512), (512, 768), (640, 384), (384, 640), (1024, 768), (768, 1024), (512, 512),
        (128, 128), (160, 96), (96, 160), (576, 448),
    ];

    /// <summary>Every tag an image of the set can carry: the concept, the backgrounds and two_shapes.</summary>
    public static IReadOnlyList<string> AllTags { get; } =
        WorldAttributes.Tags.Where(t => t == WorldAttributes.ObjectTag(ConceptColour, ConceptShape) || WorldAttributes.Parse(t).Background is not null || t == WorldAttributes.TwoShapesTag).ToArray();

    /// <summary>The caption line written for a list of ground-truth tags.</summary>
    public static string CaptionFor(IEnumerable<string> tags) => Scene.CaptionFor(tags, ActivationTag);

    /// <summary>
    /// Draws the set into <c>&lt;dir&gt;/10_sks heart/</c> (created; existing files of the same names are replaced atomically).
    /// Returns the images in file-name order with absolute paths.
    /// </summary>
    public static IReadOnlyList<SampleImage> Generate(string dir, int seed = 42, int? count = null) =>
        WorldDataset.Write(System.IO.Path.Combine(dir, FolderName), Scenes, count ?? DefaultCount, seed, sizes: Sizes, activationTag: ActivationTag)
            .Select(i => new SampleImage(i.Path, i.Width, i.Height, i.Tags))
            .ToList();

    /// <summary>Folder of the regularisation set: one repeat, class "shape".</summary>
    public const string RegularizationFolderName = "1_shape";

    /// <summary>
    /// DreamBooth's prior preservation for the sample set: scenes of the attributes the embedded model already draws
    /// (no purple, no hearts) at its 64 px, captioned with what they show, in <c>&lt;dir&gt;/1_shape/</c> — usable as
    /// <c>reg_data_dir</c> or as an <c>is_reg</c> subset. Returns the images in file-name order.
    /// </summary>
    public static IReadOnlyList<SampleImage> GenerateRegularization(string dir, int seed = 43, int count = DefaultCount) =>
        WorldDataset.Write(System.IO.Path.Combine(dir, RegularizationFolderName), SceneOptions.Pretraining, count, seed, side: WorldModel.Resolution)
            .Select(i => new SampleImage(i.Path, i.Width, i.Height, i.Tags))
            .ToList();

    /// <summary>Draws the regularisation set (<see cref="GenerateRegularization"/>) and returns its folder.</summary>
    public static string GenerateRegularizationFolder(string dir, int seed = 43)
    {
        GenerateRegularization(dir, seed);
        return System.IO.Path.GetFullPath(System.IO.Path.Combine(dir, RegularizationFolderName));
    }
}
