using static TorchSharp.torch;

namespace NotebookTrainer.Sampling;

/// <summary>
/// What the embedder needs from a CLIP tokenizer: text → token ids without BOS/EOS, and the special ids
/// (SD1 pads with EOS; SD2's OpenCLIP tokenizer pads with 0).
/// </summary>
public sealed record PromptTokenizer(Func<string, IReadOnlyList<int>> Encode, int BosId, int EosId, int PadId);

/// <summary>One 77-token window: BOS, up to 75 prompt tokens, EOS, padding; a weight per position (1 for specials).</summary>
public sealed record TokenWindow(int[] Ids, float[] Weights);

/// <summary>
/// Prompt → text-encoder states with A1111 attention weights and 75-token windows: each window is encoded
/// separately (<c>encodeWindow</c>: ids (1, 77) → states (1, 77, dim)), its states are multiplied by the token
/// weights and rescaled so their mean equals the unweighted mean (as A1111 does), and windows are joined as
/// kohya does for max_token_length &gt; 75: the first BOS state, each window's 75 token states, the last EOS state.
/// An SDXL encoder also gives each window a pooled embedding; the prompt's is its first window's, as in sd-scripts.
/// </summary>
public sealed class PromptEmbedder
{
    readonly PromptTokenizer tokenizer;
    readonly Func<Tensor, PromptConditioning> encodeWindow;
    readonly int windowLength;

    public PromptEmbedder(PromptTokenizer tokenizer, Func<Tensor, Tensor> encodeWindow, int windowLength = 77)
        : this(tokenizer, ids => new PromptConditioning(encodeWindow(ids)), windowLength)
    {
    }

    /// <param name="encodeWindow">ids (1, 77) → states (1, 77, dim) and, for SDXL, the pooled embedding (1, P).</param>
    public PromptEmbedder(PromptTokenizer tokenizer, Func<Tensor, PromptConditioning> encodeWindow, int windowLength = 77)
    {
        this.tokenizer = tokenizer;
        this.encodeWindow = encodeWindow;
        this.windowLength = windowLength;
    }

    public int TokensPerWindow => windowLength - 2;

    public IReadOnlyList<TokenWindow> Tokenize(string prompt, int minWindows = 1)
    {
        var windows = new List<(List<int> Ids, List<float> Weights)> { ([], []) };
        foreach (var run in PromptAttention.Parse(prompt))
        {
            if (run.IsBreak)
            {
                windows.Add(([], []));
                continue;
            }
            foreach (var id in tokenizer.Encode(run.Text))
            {
                if (windows[^1].Ids.Count == TokensPerWindow) windows.Add(([], []));
                windows[^1].Ids.Add(id);
                windows[^1].Weights.Add((float)run.Weight);
            }
        }
        while (windows.Count < minWindows) windows.Add(([], []));
        return windows.Select(w => Window(w.Ids, w.Weights)).ToList();
    }

    TokenWindow Window(List<int> ids, List<float> weights)
    {
        var windowIds = new int[windowLength];
        var windowWeights = new float[windowLength];
        Array.Fill(windowIds, tokenizer.PadId);
        Array.Fill(windowWeights, 1f);
        windowIds[0] = tokenizer.BosId;
        ids.CopyTo(windowIds, 1);
        weights.CopyTo(windowWeights, 1);
        windowIds[ids.Count + 1] = tokenizer.EosId;
        return new TokenWindow(windowIds, windowWeights);
    }

    /// <summary>States (1, 77, dim) for one window, (1, 75·n + 2, dim) for n windows.</summary>
    public Tensor Embed(string prompt, int minWindows = 1)
    {
        var conditioning = Embed(Tokenize(prompt, minWindows));
        conditioning.Pooled?.Dispose();
        return conditioning.States;
    }

    /// <summary>Prompt and negative prompt with the same window count, as classifier-free guidance batches them.</summary>
    public (PromptConditioning Conditioning, PromptConditioning Unconditioning) EmbedPair(string prompt, string negativePrompt)
    {
        var positive = Tokenize(prompt);
        var negative = Tokenize(negativePrompt, positive.Count);
        if (negative.Count > positive.Count) positive = Tokenize(prompt, negative.Count);
        return (Embed(positive), Embed(negative));
    }

    /// <summary>
    /// A1111 rescales weighted states back to the unweighted mean. Where that mean is next to zero (hidden states
    /// straight out of a final layer norm with no bias, as in a freshly initialised model) the ratio is noise or 0/0,
    /// so the weighted states are kept as they are.
    /// </summary>
    static Tensor RestoreMean(Tensor states, Tensor weighted)
    {
        var originalMean = states.mean().item<float>();
        var weightedMean = weighted.mean().item<float>();
        var scale = states.abs().mean().item<float>();
        return Math.Abs(originalMean) > 1e-3f * scale && Math.Abs(weightedMean) > 1e-3f * scale ? weighted * (originalMean / weightedMean) : weighted;
    }

    PromptConditioning Embed(IReadOnlyList<TokenWindow> windows)
    {
        using var scope = NewDisposeScope();
        var parts = new List<Tensor>();
        Tensor? pooled = null;
        for (var w = 0; w < windows.Count; w++)
        {
            var ids = tensor(windows[w].Ids.Select(i => (long)i).ToArray(), dtype: ScalarType.Int64).unsqueeze(0);
            var (states, windowPooled) = encodeWindow(ids);
            if (w == 0) pooled = windowPooled;
            var weights = tensor(windows[w].Weights).to(states.dtype).to(states.device).reshape(1, -1, 1);
            var weighted = windows[w].Weights.All(x => x == 1f) ? states : RestoreMean(states, states * weights);
            if (windows.Count == 1) parts.Add(weighted);
            else
            {
                if (w == 0) parts.Add(weighted[.., 0..1]);
                parts.Add(weighted[.., 1..(windowLength - 1)]);
                if (w == windows.Count - 1) parts.Add(weighted[.., (windowLength - 1)..]);
            }
        }
        return new PromptConditioning(cat(parts, 1).MoveToOuterDisposeScope(), pooled?.MoveToOuterDisposeScope());
    }
}
