using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace NotebookTrainer.Tagging;

/// <summary>
/// A WD14 tagger loaded from a folder holding <c>model.onnx</c> and <c>selected_tags.csv</c> (any public v2/v3 model,
/// or the generated world judge, <c>WorldTagger</c>). Input name, side and batch dimension are read from the model and checked against the
/// WD14 signature [batch, side, side, 3] float32 → [batch, tags].
/// </summary>
public sealed class WdTaggerModel : IDisposable
{
    public const string ModelFileName = "model.onnx";

    readonly InferenceSession session;
    readonly RunOptions runOptions = new();

    public string ModelDirectory { get; }
    public SelectedTags Tags { get; }
    public string InputName { get; }
    public string OutputName { get; }
    public int InputSide { get; }
    /// <summary>The batch size the model was exported with, or null when the batch dimension is dynamic.</summary>
    public int? FixedBatchSize { get; }
    /// <summary>"CUDAExecutionProvider" or "CPUExecutionProvider".</summary>
    public string ExecutionProvider { get; }

    WdTaggerModel(string dir, SelectedTags tags, InferenceSession session, string provider)
    {
        ModelDirectory = dir;
        Tags = tags;
        this.session = session;
        ExecutionProvider = provider;
        var modelPath = Path.Combine(dir, ModelFileName);

        if (session.InputMetadata.Count != 1)
            throw new TaggerModelException($"{modelPath}: has {session.InputMetadata.Count} inputs; a WD14 tagger has one image input [batch, side, side, 3].");
        var (inputName, input) = session.InputMetadata.First();
        var dims = input.Dimensions;
        if (input.ElementDataType != TensorElementType.Float || dims.Length != 4 || dims[3] != 3 || dims[1] <= 0 || dims[1] != dims[2])
            throw new TaggerModelException(
                $"{modelPath}: input '{inputName}' is {input.ElementDataType}[{string.Join(", ", dims)}]; a WD14 tagger takes float32 [batch, side, side, 3] (NHWC, BGR 0..255). " +
                "Is this a WD14 tagger model?");
        InputName = inputName;
        InputSide = dims[1];
        FixedBatchSize = dims[0] > 0 ? dims[0] : null;

        var (outputName, output) = session.OutputMetadata.First();
        var odims = output.Dimensions;
        if (output.ElementDataType != TensorElementType.Float || odims.Length != 2)
            throw new TaggerModelException($"{modelPath}: output '{outputName}' is {output.ElementDataType}[{string.Join(", ", odims)}]; a WD14 tagger outputs float32 [batch, tags].");
        if (odims[1] > 0 && odims[1] != tags.Count)
            throw new TaggerModelException(
                $"{modelPath}: outputs {odims[1]} scores per image but {Path.Combine(dir, SelectedTags.FileName)} lists {tags.Count} tags. " +
                "Use the selected_tags.csv that ships with this model.");
        OutputName = outputName;
    }

    /// <param name="preferGpu">Try the CUDA execution provider first and fall back to CPU when it is not available.</param>
    public static WdTaggerModel Load(string modelDir, bool preferGpu = true, int intraOpThreads = 0)
    {
        var dir = Path.GetFullPath(modelDir);
        var modelPath = Path.Combine(dir, ModelFileName);
        if (!File.Exists(modelPath))
            throw new TaggerModelException($"{modelPath}: not found. Point --model at a folder holding {ModelFileName} and {SelectedTags.FileName} (e.g. a downloaded wd-v1-4-moat-tagger-v2, or the world judge from 'ntrain tagger world --out DIR').");
        var tags = SelectedTags.Load(Path.Combine(dir, SelectedTags.FileName));

        var (session, provider) = CreateSession(modelPath, preferGpu, intraOpThreads);
        try
        {
            return new WdTaggerModel(dir, tags, session, provider);
        }
        catch
        {
            session.Dispose();
            throw;
        }
    }

    static (InferenceSession, string) CreateSession(string modelPath, bool preferGpu, int intraOpThreads)
    {
        if (preferGpu && OrtEnv.Instance().GetAvailableProviders().Contains("CUDAExecutionProvider"))
        {
            var gpu = NewOptions(intraOpThreads);
            try
            {
                gpu.AppendExecutionProvider_CUDA(0);
                return (Open(modelPath, gpu), "CUDAExecutionProvider");
            }
            catch (Exception e) when (e is OnnxRuntimeException or DllNotFoundException or EntryPointNotFoundException)
            {
                // CUDA libraries missing or no device: the CPU provider below still works.
            }
            finally
            {
                gpu.Dispose();
            }
        }
        using var cpu = NewOptions(intraOpThreads);
        return (Open(modelPath, cpu), "CPUExecutionProvider");
    }

    static SessionOptions NewOptions(int intraOpThreads)
    {
        var o = new SessionOptions { GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL };
        if (intraOpThreads > 0) o.IntraOpNumThreads = intraOpThreads;
        // Spinning intra-op threads hold their cores between operators; the image decoders running beside the
        // session then preempt one of them and every parallel operator waits for the straggler.
        o.AddSessionConfigEntry("session.intra_op.allow_spinning", "0");
        return o;
    }

    static InferenceSession Open(string modelPath, SessionOptions options)
    {
        try
        {
            return new InferenceSession(modelPath, options);
        }
        catch (OnnxRuntimeException e)
        {
            throw new TaggerModelException($"{modelPath}: ONNX Runtime cannot load it ({e.Message}). Re-download the file; it may be truncated.", e);
        }
    }

    /// <summary>Scores <paramref name="count"/> prepared images (count×side×side×3 floats); returns count×tags probabilities.</summary>
    public float[] Run(float[] batch, int count)
    {
        var side = InputSide;
        if (batch.Length < count * side * side * 3)
            throw new ArgumentException($"batch holds {batch.Length} floats, {count} images of {side}x{side}x3 need {count * side * side * 3}.", nameof(batch));
        using var input = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, batch.AsMemory(0, count * side * side * 3), [count, side, side, 3]);
        using var outputs = session.Run(runOptions, [InputName], [input], [OutputName]);
        var scores = outputs[0].GetTensorDataAsSpan<float>();
        if (scores.Length != count * Tags.Count)
            throw new TaggerModelException($"{Path.Combine(ModelDirectory, ModelFileName)}: returned {scores.Length} scores for {count} images; expected {count}x{Tags.Count} ({SelectedTags.FileName} rows).");
        return scores.ToArray();
    }

    public void Dispose()
    {
        session.Dispose();
        runOptions.Dispose();
    }
}
