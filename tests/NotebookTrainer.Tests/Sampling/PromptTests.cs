using NotebookTrainer.Sampling;
using TorchSharp;
using static TorchSharp.torch;

namespace NotebookTrainer.Tests.Sampling;

public class PromptTests
{
    static (string, double)[] Runs(string prompt) =>
        PromptAttention.Parse(prompt).Select(r => (r.Text, Math.Round(r.Weight, 6))).ToArray();

    [Fact]
    public void AttentionSyntaxFollowsA1111()
    {
        Assert.Equal([("a ", 1.0), ("red", 1.1), (" cat", 1.0)], Runs("a (red) cat"));
        Assert.Equal([("a ", 1.0), ("red", 1.2), (" cat", 1.0)], Runs("a (red:1.2) cat"));
        Assert.Equal([("a ", 1.0), ("red", Math.Round(1 / 1.1, 6)), (" cat", 1.0)], Runs("a [red] cat"));
        Assert.Equal([("x", Math.Round(1.1 * 1.1, 6))], Runs("((x))"));
        Assert.Equal([("a ", 1.0), ("b", Math.Round(1.5 * 1.1, 6)), ("c", 1.5)], Runs("a ((b)c:1.5)"));
        Assert.Equal([("(literal) ", 1.0), ("w", 0.5)], Runs(@"\(literal\) (w: 0.5 )"));
        Assert.Equal([("open ", 1.0), ("rest", 1.1)], Runs("open (rest"));
        Assert.Equal([("time: 12:30", 1.0)], Runs("time: 12:30"));
        Assert.Equal([("", 1.0)], Runs(""));
        var withBreak = PromptAttention.Parse("one BREAK two BREAKFAST");
        Assert.Equal(3, withBreak.Count);
        Assert.True(withBreak[1].IsBreak);
        Assert.Equal("two BREAKFAST", withBreak[2].Text);
    }

    static PromptTokenizer WordTokenizer() => new(
        text => text.Split([' ', ','], StringSplitOptions.RemoveEmptyEntries).Select(w => 10 + Math.Abs(w.GetHashCode() % 80)).ToList(),
        BosId: 1, EosId: 2, PadId: 2);

    [Fact]
    public void TokensFillWindowsOf75WithBosEosAndWeights()
    {
        var embedder = new PromptEmbedder(WordTokenizer(), ids => ids);
        var words = string.Join(" ", Enumerable.Repeat("w", 80));
        var windows = embedder.Tokenize($"(a:1.5) {words}");
        Assert.Equal(2, windows.Count);
        Assert.Equal(77, windows[0].Ids.Length);
        Assert.Equal(1, windows[0].Ids[0]);
        Assert.Equal(2, windows[0].Ids[76]);
        Assert.Equal(1.5f, windows[0].Weights[1]);
        Assert.Equal(1f, windows[0].Weights[2]);
        // 81 tokens: 75 in the first window, 6 in the second, then EOS and EOS padding.
        Assert.Equal(2, windows[1].Ids[7]);
        Assert.NotEqual(2, windows[1].Ids[6]);
        var broken = embedder.Tokenize("a BREAK b");
        Assert.Equal(2, broken.Count);
        Assert.Equal(3, embedder.Tokenize("a", minWindows: 3).Count);
    }

    [Fact]
    public void WeightsScaleTokenStatesAndTheMeanIsRestored()
    {
        torch.manual_seed(3);
        using var embedding = nn.Embedding(100, 16);
        var embedder = new PromptEmbedder(WordTokenizer(), ids => embedding.forward(ids).abs() + 0.1);
        using var plain = embedder.Embed("a red cat");
        using var weighted = embedder.Embed("a (red:2) cat");
        Assert.Equal([1, 77, 16], weighted.shape);
        Assert.Equal(plain.mean().item<float>(), weighted.mean().item<float>(), 4);
        // The weighted token's state grew relative to its neighbour by the factor 2.
        var ratio = (weighted[0, 2] / weighted[0, 1]).mean().item<float>() / (plain[0, 2] / plain[0, 1]).mean().item<float>();
        Assert.Equal(2f, ratio, 3);
        var (cond, uncond) = embedder.EmbedPair(string.Join(" ", Enumerable.Repeat("w", 100)), "blurry");
        Assert.Equal([1, 75 * 2 + 2, 16], cond.States.shape);
        Assert.Equal(cond.States.shape, uncond.States.shape);
        Assert.Null(cond.Pooled);
    }

    [Fact]
    public void StatesWithAMeanOfExactlyZeroStayFinite()
    {
        // Like a final layer norm without bias: each token's state is (e, −e), so the mean is exactly 0.
        torch.manual_seed(4);
        using var embedding = nn.Embedding(100, 8);
        Tensor Encode(Tensor ids)
        {
            var e = embedding.forward(ids);
            return cat([e, -e], -1);
        }
        var embedder = new PromptEmbedder(WordTokenizer(), Encode);
        foreach (var prompt in new[] { "a red cat", "a (red:1.3) cat", "[a] red cat" })
        {
            using var states = embedder.Embed(prompt);
            Assert.False(states.isnan().any().item<bool>(), prompt);
            Assert.True(states.abs().max().item<float>() < 10, prompt);
        }
        using var unweighted = embedder.Embed("a red cat");
        using var raw = Encode(tensor(embedder.Tokenize("a red cat")[0].Ids.Select(i => (long)i).ToArray()).unsqueeze(0));
        Assert.Equal(0f, (unweighted - raw).abs().max().item<float>());   // all weights 1: the states are untouched
    }

    [Fact]
    public void PromptFileFollowsKohyaRules()
    {
        var file = SamplePromptFile.Parse([
            "# comment",
            "",
            "a sks shape, red circle --n blurry, lowres --w 300 --h 20 --d 42 --s 2000 --l 5.5 --ss k_euler_a",
            "plain prompt",
            "with unknown --zz 3",
        ], "prompts.txt");
        Assert.Equal(3, file.Prompts.Count);
        var p = file.Prompts[0];
        Assert.Equal("a sks shape, red circle", p.Prompt);
        Assert.Equal("blurry, lowres", p.NegativePrompt);
        Assert.Equal((296, 64), (p.Width, p.Height));
        Assert.Equal(42, p.Seed);
        Assert.Equal(1000, p.Steps);
        Assert.Equal(5.5, p.CfgScale);
        Assert.Equal("k_euler_a", p.Sampler);
        Assert.Equal(3, p.Line);
        var d = file.Prompts[1];
        Assert.Equal((512, 512, 30, 7.5), (d.Width, d.Height, d.Steps, d.CfgScale));
        Assert.Null(d.Seed);
        Assert.Contains(file.Warnings, w => w.Contains("prompts.txt:5: --zz"));
        Assert.Contains(file.Warnings, w => w.Contains("--s 2000 steps clamped to 1000"));

        var bad = Assert.Throws<FormatException>(() => SamplePromptFile.Parse(["x --w big"], "p.txt"));
        Assert.Contains("p.txt:1: --w", bad.Message);
        var sampler = Assert.Throws<FormatException>(() => SamplePromptFile.Parse(["", "x --ss nope"], "p.txt"));
        Assert.Contains("p.txt:2: --ss", sampler.Message);
    }
}
