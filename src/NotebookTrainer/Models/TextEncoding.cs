using NotebookTrainer.Models.Clip;
using TorchSharp;
using static TorchSharp.torch;

namespace NotebookTrainer.Models;

/// <summary>
/// Prompt token ids → U-Net conditioning, kohya style: clip_skip and max_token_length windows.
/// </summary>
public static class TextEncoding
{
    /// <summary>
    /// Encodes <paramref name="inputIds"/> (B, windows·77), or one window of any length up to 77: each window of BOS + 75 tokens + EOS/padding is
    /// encoded separately; with more than one window the result is the first BOS state, each window's 75
    /// token states, and the last window's final state (B, 75·windows + 2, hidden). clip_skip k takes
    /// hidden_states[−k] and applies final_layer_norm (k = 1 is the normal last layer).
    /// </summary>
    /// <remarks>
    /// kohya additionally copies a padding state over an empty window's first state for SD 2.x; we do not,
    /// since its indexing there mixes batch and window rows.
    /// </remarks>
    public static Tensor Encode(ICLIPTextEncoder textEncoder, Tensor inputIds, int clipSkip = 1)
    {
        var window = textEncoder.Config.MaxPositionEmbeddings;
        var layers = textEncoder.Config.NumHiddenLayers;
        if (clipSkip < 1 || clipSkip > layers)
            throw new ArgumentOutOfRangeException(nameof(clipSkip), clipSkip, $"clip_skip must be between 1 and {layers} (the text encoder's layer count).");
        if (inputIds.dim() != 2 || (inputIds.shape[1] > window && inputIds.shape[1] % window != 0))
            throw new ArgumentException($"input ids must be (batch, up to {window}) or (batch, windows·{window}); got ({string.Join(", ", inputIds.shape)}).", nameof(inputIds));
        if (inputIds.shape[1] < window) window = (int)inputIds.shape[1];   // one window, shorter than the position count
        using var scope = NewDisposeScope();
        var batch = inputIds.shape[0];
        var windows = inputIds.shape[1] / window;
        using var output = textEncoder.forward(inputIds.reshape(batch * windows, window), layers - clipSkip + 1);
        return JoinWindows(output.LastHiddenState, batch).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// (B·windows, window, C) states of separately encoded windows → (B, tokens, C): one window as it is; several as the
    /// first BOS state, each window's inner window − 2 states, and the last window's final state (kohya).
    /// </summary>
    static Tensor JoinWindows(Tensor windowStates, long batch)
    {
        var window = (int)windowStates.shape[1];
        var windows = windowStates.shape[0] / batch;
        var states = windowStates.reshape(batch, windows * window, -1);
        if (windows == 1) return states;
        var parts = new List<Tensor> { states[.., 0..1] };
        for (var w = 0; w < windows; w++)
        {
            var start = w * window + 1;
            parts.Add(states[.., start..(start + window - 2)]);
        }
        parts.Add(states[.., ^1..]);
        return cat(parts, 1);
    }

    /// <summary>
    /// transformers' <c>hidden_states[layer]</c> (0 the embeddings, −1 the last layer, −2 the penultimate) without the
    /// final layer norm, running only the layers it needs.
    /// </summary>
    public static Tensor HiddenState(ICLIPTextEncoder textEncoder, Tensor inputIds, int layer)
    {
        var count = textEncoder.Config.NumHiddenLayers + 1;
        var index = layer < 0 ? count + layer : layer;
        if (index < 0 || index >= count)
            throw new ArgumentOutOfRangeException(nameof(layer), layer, $"hidden state index must be between {-count} and {count - 1} (embeddings plus {count - 1} layers).");
        using var output = textEncoder.forward(inputIds, index);
        return output.HiddenStates[index].clone();
    }

    /// <summary>
    /// SDXL's conditioning: concat(te1 hidden_states[−2], te2 hidden_states[−2]) on the last axis (B, tokens, 768 + 1280)
    /// and text encoder 2's pooled, projected embedding (B, 1280). The ids are (B, windows·77) for each encoder (its own
    /// padding); windows are encoded separately and joined as <see cref="Encode"/> does, and the pooled embedding is the
    /// first window's, as in sd-scripts (max_token_length 150/225).
    /// </summary>
    public static (Tensor Context, Tensor Pooled) EncodeSdxl(CLIPTextModel textEncoder, CLIPTextModelWithProjection textEncoder2, Tensor inputIds, Tensor inputIds2)
    {
        var window = textEncoder.Config.MaxPositionEmbeddings;
        if (inputIds.dim() != 2 || !inputIds.shape.SequenceEqual(inputIds2.shape) || (inputIds.shape[1] > window && inputIds.shape[1] % window != 0))
            throw new ArgumentException($"SDXL input ids must be (batch, windows·{window}) for both text encoders; got ({string.Join(", ", inputIds.shape)}) and ({string.Join(", ", inputIds2.shape)}).", nameof(inputIds));
        if (inputIds.shape[1] < window) window = (int)inputIds.shape[1];
        using var scope = NewDisposeScope();
        var batch = inputIds.shape[0];
        var windows = inputIds.shape[1] / window;
        var first = HiddenState(textEncoder, inputIds.reshape(batch * windows, window), -2);
        var (pooled, output) = textEncoder2.forward(inputIds2.reshape(batch * windows, window));
        using (output)
        {
            var context = cat([JoinWindows(first, batch), JoinWindows(output.HiddenStates[^2].to(first.dtype), batch)], -1);
            var firstWindowPooled = pooled.reshape(batch, windows, -1)[.., 0];
            return (context.MoveToOuterDisposeScope(), firstWindowPooled.MoveToOuterDisposeScope());
        }
    }

    /// <summary>
    /// kohya's weighted_captions: multiplies each token's state by its weight. <paramref name="windowWeights"/> is
    /// (B, windows, 77) as the windows were tokenized; <paramref name="states"/> is what <see cref="Encode"/> returned
    /// for them. BOS and the final state keep weight 1; unlike A1111 sampling, kohya does not restore the mean.
    /// </summary>
    public static Tensor ApplyTokenWeights(Tensor states, Tensor windowWeights)
    {
        using var scope = NewDisposeScope();
        var batch = windowWeights.shape[0];
        var window = windowWeights.shape[2];
        var one = ones(batch, 1, dtype: windowWeights.dtype, device: windowWeights.device);
        var perToken = cat([one, windowWeights[.., .., 1..(int)(window - 1)].reshape(batch, -1), one], 1);
        return (states * perToken.to(states.dtype).to(states.device).unsqueeze(-1)).MoveToOuterDisposeScope();
    }
}
