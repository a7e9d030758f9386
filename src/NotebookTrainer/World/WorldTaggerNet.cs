using NotebookTrainer.Tagging;
using NotebookTrainer.Tagging.Onnx;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace NotebookTrainer.World;

/// <summary>
/// The world judge's network. Five 3×3 conv + batch-norm + ReLU layers (2×2 max-pool after the first three, the last
/// dilated so each of its 8×8 positions sees the whole image) give a feature map. Object tags bind colour and shape
/// at one place: the score of <c>colour_shape</c> is the maximum over positions of a colour score plus a shape score
/// (one 1×1 conv each), plus a bias per tag. Background and <c>two_shapes</c> come from a linear head over the
/// globally max- and average-pooled features.
/// <para>Input and output are a WD14 tagger's: BGR 0..255, NHWC [batch, 64, 64, 3] → sigmoid scores
/// [batch, 4 ratings + <see cref="WorldAttributes.Tags"/>]; the ratings are constants (the world is all-ages).
/// <see cref="ToOnnx"/> writes the same computation as an ONNX graph.</para>
/// </summary>
public sealed class WorldTaggerNet : nn.Module<Tensor, Tensor>
{
    public const int Side = 64;
    public static readonly IReadOnlyList<string> Ratings = ["general", "sensitive", "questionable", "explicit"];
    static readonly int[] Widths = [16, 32, 64, 64, 96];
    const int Pools = 3;
    const double NormEpsilon = 1e-5;
    // "general" scores about 0.98, the others about 0.002.
    static readonly float[] RatingLogits = [4f, -6f, -6f, -6f];

    static int Colours => WorldAttributes.Colours.Count;
    static int Shapes => WorldAttributes.Shapes.Count;
    static int ObjectTags => Colours * Shapes;
    static int SceneTags => WorldAttributes.Tags.Count - ObjectTags;
    static int Features => Widths[^1];

    public readonly ModuleList<Conv2d> convs;
    public readonly ModuleList<BatchNorm2d> norms;
    public readonly Parameter colour_weight, shape_weight, object_bias;
    public readonly Linear scene;

    public static int OutputCount => Ratings.Count + WorldAttributes.Tags.Count;

    /// <summary>He-uniform weights drawn from <paramref name="generator"/>, so the seed alone fixes them.</summary>
    public WorldTaggerNet(Generator generator) : base(nameof(WorldTaggerNet))
    {
        if (!WorldAttributes.Tags.Take(ObjectTags).SequenceEqual(WorldAttributes.Colours.SelectMany(c => WorldAttributes.Shapes.Select(s => WorldAttributes.ObjectTag(c, s)))))
            throw new InvalidOperationException("WorldAttributes.Tags must list the colour_shape tags first, colour-major.");
        convs = new ModuleList<Conv2d>();
        norms = new ModuleList<BatchNorm2d>();
        var inChannels = 3;
        for (var i = 0; i < Widths.Length; i++)
        {
            var dilation = Dilation(i);
            convs.Add(nn.Conv2d(inChannels, Widths[i], 3, padding: dilation, dilation: dilation, bias: false));
            norms.Add(nn.BatchNorm2d(Widths[i], NormEpsilon));
            inChannels = Widths[i];
        }
        colour_weight = new Parameter(empty(Colours, Features));
        shape_weight = new Parameter(empty(Shapes, Features));
        object_bias = new Parameter(full(ObjectTags, -3f));
        scene = nn.Linear(2 * Features, SceneTags);
        RegisterComponents();

        using var _ = no_grad();
        foreach (var conv in convs) HeUniform(conv.weight!, generator);
        HeUniform(colour_weight, generator);
        HeUniform(shape_weight, generator);
        HeUniform(scene.weight!, generator);
        scene.bias!.zero_();
    }

    static int Dilation(int layer) => layer == Widths.Length - 1 ? 2 : 1;

    static void HeUniform(Tensor weight, Generator generator)
    {
        var fanIn = weight.shape.Skip(1).Aggregate(1L, (a, b) => a * b);
        var bound = Math.Sqrt(6.0 / fanIn);
        weight.uniform_(-bound, bound, generator);
    }

    /// <summary>Tag logits [batch, tags] for images [batch, 3, 64, 64] in BGR order scaled to 0..1.</summary>
    public Tensor Logits(Tensor images)
    {
        using var scope = NewDisposeScope();
        var h = images;
        for (var i = 0; i < convs.Count; i++)
        {
            h = nn.functional.relu(norms[i].forward(convs[i].forward(h)));
            if (i < Pools) h = nn.functional.max_pool2d(h, 2);
        }
        var objects = nn.functional.conv2d(h, ObjectWeight().view(ObjectTags, Features, 1, 1)).amax([2, 3]) + object_bias;
        var scenes = scene.forward(cat([h.amax([2, 3]), h.mean([2, 3])], 1));
        return cat([objects, scenes], 1).MoveToOuterDisposeScope();
    }

    /// <summary>The 1×1 conv weight of the object maps: row colour×shapes + shape is colour_weight[colour] + shape_weight[shape].</summary>
    Tensor ObjectWeight() => (colour_weight.unsqueeze(1) + shape_weight.unsqueeze(0)).reshape(ObjectTags, Features);

    /// <summary>WD14 signature: BGR 0..255 [batch, 64, 64, 3] → sigmoid [batch, 4 ratings + tags].</summary>
    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        var logits = Logits(input.permute(0, 3, 1, 2).mul(1f / 255));
        var ratings = tensor(RatingLogits, device: input.device).expand(input.shape[0], Ratings.Count);
        return sigmoid(cat([ratings, logits], 1)).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The same network as an ONNX graph (opset <see cref="OnnxGraph.OpsetVersion"/>): input "input_1", output
    /// "predictions_sigmoid", as WD14 models name them. Each batch norm (running statistics, as in eval mode) is folded
    /// into its conv; the object maps become one 1×1 conv with the composed weight and the tag biases; the rating
    /// constants are a linear layer with zero weights.
    /// </summary>
    public OnnxGraph ToOnnx()
    {
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        var g = new OnnxGraph("world_tagger");
        g.Inputs.Add(new OnnxValue("input_1", ["batch", (long)Side, (long)Side, 3L]));
        var h = g.Add("Mul", [g.Add("Transpose", ["input_1"], new OnnxAttribute.Ints("perm", [0, 3, 1, 2])), g.Constant("input_scale", [1], [1f / 255])]);
        for (var i = 0; i < convs.Count; i++)
        {
            var (weight, bias) = FoldedConv(i);
            var dilation = Dilation(i);
            h = g.Add("Relu", [g.Add("Conv", [h, g.Constant($"conv{i}_weight", convs[i].weight!.shape, weight), g.Constant($"conv{i}_bias", [bias.Length], bias)],
                new OnnxAttribute.Ints("kernel_shape", [3, 3]), new OnnxAttribute.Ints("pads", [dilation, dilation, dilation, dilation]),
                new OnnxAttribute.Ints("dilations", [dilation, dilation]))]);
            if (i < Pools)
                h = g.Add("MaxPool", [h], new OnnxAttribute.Ints("kernel_shape", [2, 2]), new OnnxAttribute.Ints("strides", [2, 2]));
        }
        var flatten = new OnnxAttribute.Int("axis", 1);
        var objectMaps = g.Add("Conv", [h, g.Constant("object_weight", [ObjectTags, Features, 1, 1], Values(ObjectWeight())), g.Constant("object_bias", [ObjectTags], Values(object_bias))]);
        var objects = g.Add("Flatten", [g.Add("GlobalMaxPool", [objectMaps])], flatten);
        var pooled = g.Add("Flatten", [g.Add("Concat", [g.Add("GlobalMaxPool", [h]), g.Add("GlobalAveragePool", [h])], flatten)], flatten);
        var scenes = g.Add("Gemm", [pooled, g.Constant("scene_weight", scene.weight!.shape, Values(scene.weight!)), g.Constant("scene_bias", [SceneTags], Values(scene.bias!))],
            new OnnxAttribute.Int("transB", 1));
        var ratings = g.Add("Gemm", [pooled, g.Constant("rating_weight", [Ratings.Count, 2 * Features], new float[Ratings.Count * 2 * Features]), g.Constant("rating_bias", [Ratings.Count], RatingLogits)],
            new OnnxAttribute.Int("transB", 1));
        g.Nodes.Add(new OnnxNode("Sigmoid", [g.Add("Concat", [ratings, objects, scenes], flatten)], ["predictions_sigmoid"], []));
        g.Outputs.Add(new OnnxValue("predictions_sigmoid", ["batch", (long)OutputCount]));
        return g;
    }

    /// <summary>Conv <paramref name="i"/> with its batch norm folded in: w·γ/√(var+ε) and β − mean·γ/√(var+ε) per output channel.</summary>
    (float[] Weight, float[] Bias) FoldedConv(int i)
    {
        var norm = norms[i];
        var gamma = Values(norm.weight!);
        var beta = Values(norm.bias!);
        var mean = Values(norm.running_mean!);
        var variance = Values(norm.running_var!);
        var weight = Values(convs[i].weight!);
        var perChannel = weight.Length / gamma.Length;
        var bias = new float[gamma.Length];
        for (var c = 0; c < gamma.Length; c++)
        {
            var scale = gamma[c] / Math.Sqrt(variance[c] + NormEpsilon);
            for (var k = 0; k < perChannel; k++) weight[c * perChannel + k] = (float)(weight[c * perChannel + k] * scale);
            bias[c] = (float)(beta[c] - mean[c] * scale);
        }
        return (weight, bias);
    }

    static float[] Values(Tensor t)
    {
        using var values = t.detach().cpu().contiguous();
        return values.data<float>().ToArray();
    }
}
