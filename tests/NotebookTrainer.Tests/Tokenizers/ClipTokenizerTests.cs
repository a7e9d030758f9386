using System.Text.Json;
using NotebookTrainer.Tests.SafeTensors;
using NotebookTrainer.Tokenizers;

namespace NotebookTrainer.Tests.Tokenizers;

/// <summary>
/// A hand-made CLIP-layout vocabulary: ids 0–255 are the byte symbols, 256–511 their &lt;/w&gt; forms, then one id
/// per merge, then BOS and EOS. Expected ids below are worked out by hand from CLIP's BPE rules.
/// </summary>
public class ClipTokenizerTests
{
    static readonly string[] Merges = ["l o", "e r</w>", "lo w", "n e", "ne w</w>"];
    const int Lo = 512, Er = 513, Low = 514, Ne = 515, New = 516, Bos = 517, Eos = 518;

    static string WriteTokenizer(TempDir dir, string? padToken = null, string[]? merges = null)
    {
        var vocab = Vocabulary();
        File.WriteAllText(dir.File("vocab.json"), JsonSerializer.Serialize(vocab));
        File.WriteAllText(dir.File("merges.txt"), "#version: 0.2\n" + string.Join("\n", merges ?? Merges) + "\n");
        if (padToken != null)
            File.WriteAllText(dir.File("special_tokens_map.json"), JsonSerializer.Serialize(new { pad_token = new { content = padToken } }));
        return dir.Path;
    }

    /// <summary>CLIP's order: byte symbols by code point, the same with &lt;/w&gt;, merges, BOS, EOS.</summary>
    static Dictionary<string, int> Vocabulary()
    {
        var byteSymbols = Enumerable.Range(0, 256).Select(b => ByteSymbol((byte)b)).Order(StringComparer.Ordinal).ToList();
        var vocab = new Dictionary<string, int>();
        foreach (var s in byteSymbols) vocab[s] = vocab.Count;
        foreach (var s in byteSymbols) vocab[s + "</w>"] = vocab.Count;
        foreach (var m in Merges) vocab[m.Replace(" ", "")] = vocab.Count;
        vocab["<|startoftext|>"] = vocab.Count;
        vocab["<|endoftext|>"] = vocab.Count;
        return vocab;
    }

    /// <summary>GPT-2's table, written out independently of the library: printable Latin-1 maps to itself, the rest from U+0100.</summary>
    static string ByteSymbol(byte b)
    {
        var printable = Enumerable.Range('!', '~' - '!' + 1).Concat(Enumerable.Range(0xA1, 12)).Concat(Enumerable.Range(0xAE, 0x100 - 0xAE)).ToList();
        if (printable.Contains(b)) return ((char)b).ToString();
        var rank = Enumerable.Range(0, 256).Where(x => !printable.Contains(x)).ToList().IndexOf(b);
        return ((char)(256 + rank)).ToString();
    }

    [Fact]
    public void Byte_symbol_ids_follow_clip()
    {
        var vocab = Vocabulary();
        // The real CLIP vocabulary has "!" = 0, "a" = 64, "a</w>" = 320 ("a photo" encodes to 320, 1125).
        Assert.Equal((0, 64, 320), (vocab["!"], vocab["a"], vocab["a</w>"]));
        Assert.Equal("\u0120", ByteSymbol((byte)' '));
        Assert.Equal("\u010A", ByteSymbol((byte)'\n'));
        using var dir = new TempDir();
        Assert.Equal([320, 321, 64, 321], ClipTokenizer.Load(WriteTokenizer(dir)).Encode("a b ab"));
    }

    [Theory]
    [InlineData("lower", new[] { "low", "er</w>" })]
    [InlineData("newer", new[] { "ne", "w", "er</w>" })]
    [InlineData("new", new[] { "new</w>" })]
    [InlineData("low", new[] { "lo", "w</w>" })]
    [InlineData("It's   LOW!!", new[] { "i", "t</w>", "'", "s</w>", "lo", "w</w>", "!", "!</w>" })]
    [InlineData("2024", new[] { "2</w>", "0</w>", "2</w>", "4</w>" })]
    [InlineData("café", new[] { "c", "a", "f", "\u00c3", "\u00a9</w>" })]
    [InlineData("&amp;amp;", new[] { "&</w>" })]
    [InlineData("dog\u2019s \uFB01", new[] { "d", "o", "g</w>", "'", "s</w>", "f", "i</w>" })]
    [InlineData("<|endoftext|>", new[] { "<|endoftext|>" })]
    public void Encodes_like_clip(string text, string[] pieces)
    {
        using var dir = new TempDir();
        var tokenizer = ClipTokenizer.Load(WriteTokenizer(dir));
        var vocab = Vocabulary();
        Assert.Equal(pieces, tokenizer.Tokenize(text));
        Assert.Equal(pieces.Select(p => vocab[p]), tokenizer.Encode(text));
    }

    [Fact]
    public void Bpe_pieces_and_decode()
    {
        using var dir = new TempDir();
        var tokenizer = ClipTokenizer.Load(WriteTokenizer(dir));
        Assert.Equal(["low", "er</w>", "ne", "w", "er</w>", "\u00c3", "\u00a9</w>"], tokenizer.Tokenize("Lower  Newer é"));
        Assert.Equal("lower newer é", tokenizer.Decode(tokenizer.EncodePadded("Lower  Newer é")));
        Assert.Equal((Bos, Eos, Eos, 519), (tokenizer.BosId, tokenizer.EosId, tokenizer.PadId, tokenizer.VocabSize));
    }

    [Fact]
    public void SD1_pads_with_eos_and_truncates_to_77()
    {
        using var dir = new TempDir();
        var tokenizer = ClipTokenizer.Load(WriteTokenizer(dir));
        var ids = tokenizer.EncodePadded("lower");
        Assert.Equal(77, ids.Length);
        Assert.Equal([Bos, Low, Er, Eos], ids[..4]);
        Assert.All(ids[4..], id => Assert.Equal(Eos, id));

        var longIds = tokenizer.EncodePadded(string.Join(" ", Enumerable.Repeat("lower", 50)));
        Assert.Equal(Bos, longIds[0]);
        Assert.Equal(Eos, longIds[76]);
        Assert.Equal(Enumerable.Range(0, 75).Select(i => i % 2 == 0 ? Low : Er), longIds[1..76]);
    }

    [Fact]
    public void SD2_pads_with_the_configured_pad_token()
    {
        using var dir = new TempDir();
        var tokenizer = ClipTokenizer.Load(WriteTokenizer(dir, padToken: "!"));
        Assert.Equal(0, tokenizer.PadId);
        var ids = tokenizer.EncodePadded("new");
        Assert.Equal([Bos, New, Eos, 0], ids[..4]);
    }

    [Fact]
    public void Kohya_windows_for_max_token_length_150_and_225()
    {
        using var dir = new TempDir();
        var tokenizer = ClipTokenizer.Load(WriteTokenizer(dir));
        var text = string.Join(" ", Enumerable.Repeat("lower", 100)); // 200 tokens
        var windows = tokenizer.EncodeWindows(text, 150);
        Assert.Equal(2, windows.Length);
        foreach (var w in windows)
        {
            Assert.Equal(77, w.Length);
            Assert.Equal(Bos, w[0]);
            Assert.Equal(Eos, w[76]);
        }
        Assert.Equal(Low, windows[0][1]);
        Assert.Equal(Er, windows[1][1]); // token 76 of the caption (odd index → "er</w>")

        var three = tokenizer.EncodeWindows("lower", 225);
        Assert.Equal(3, three.Length);
        Assert.Equal([Bos, Low, Er, Eos, Eos], three[0][..5]);
        Assert.All(three[2], id => Assert.True(id == Bos || id == Eos));
        Assert.Single(tokenizer.EncodeWindows("lower", 75));
        Assert.Throws<ArgumentOutOfRangeException>(() => tokenizer.EncodeWindows("lower", 100));
    }

    [Fact]
    public void Kohya_windows_with_a_separate_pad_token_end_in_eos()
    {
        using var dir = new TempDir();
        var tokenizer = ClipTokenizer.Load(WriteTokenizer(dir, padToken: "!"));
        var pad = 0;
        var longText = tokenizer.EncodeWindows(string.Join(" ", Enumerable.Repeat("lower", 100)), 150);
        Assert.Equal(Eos, longText[0][76]); // text runs through the window: last id forced to EOS
        var shortText = tokenizer.EncodeWindows("lower", 150);
        Assert.Equal([Bos, Low, Er, Eos, pad], shortText[0][..5]);
        Assert.Equal(pad, shortText[0][76]);
        Assert.Equal([Bos, Eos, pad], shortText[1][..3]); // window of padding starts BOS EOS
    }

    [Fact]
    public void Vocab_and_merges_that_disagree_are_rejected_with_the_line()
    {
        using var dir = new TempDir();
        WriteTokenizer(dir, merges: ["l o", "q z</w>", "lo w"]);
        var e = Assert.Throws<TokenizerFormatException>(() => ClipTokenizer.Load(dir.Path));
        Assert.Contains("merges.txt, line 3", e.Message);
        Assert.Contains("qz</w>", e.Message);
        Assert.Contains("different tokenizers", e.Message);
    }

    [Fact]
    public void Missing_tokenizer_files_say_where_to_put_them()
    {
        using var dir = new TempDir();
        var e = Assert.Throws<TokenizerFormatException>(() => ClipTokenizer.Load(dir.Path));
        Assert.Contains("vocab.json and merges.txt", e.Message);
        Assert.Contains("--tokenizer DIR", e.Message);
        Assert.Contains(Path.Combine(dir.Path, "tokenizer"), ClipTokenizer.MissingTokenizerHelp(dir.File("model.safetensors")));
    }

    [Fact]
    public void BuildTiny_learns_merges_in_clip_layout()
    {
        using var dir = new TempDir();
        var captions = new[] { "1girl, solo, long hair", "1girl, long hair, smile", "solo, smile, long hair" };
        var tokenizer = ClipTokenizer.BuildTiny(captions, 100, dir.Path);

        var vocab = JsonSerializer.Deserialize<Dictionary<string, int>>(File.ReadAllText(dir.File("vocab.json")))!;
        var merges = File.ReadAllLines(dir.File("merges.txt"));
        Assert.Equal("#version: 0.2", merges[0]);
        // girl, solo, long, hair (3 merges each) and smile (4): after 16 merges every word is one symbol.
        Assert.Equal(1 + 16, merges.Length);
        Assert.Equal(0, vocab["!"]);
        Assert.Equal(64, vocab["a"]);
        Assert.Equal(256, vocab["!</w>"]);
        Assert.Equal(512, vocab[merges[1].Replace(" ", "")]);
        Assert.Equal(vocab.Count - 2, vocab["<|startoftext|>"]);
        Assert.Equal(vocab.Count - 1, vocab["<|endoftext|>"]);
        Assert.Equal(["1</w>", "girl</w>", ",</w>", "solo</w>", "long</w>", "hair</w>", "smile</w>"], tokenizer.Tokenize("1girl, solo long hair smile"));
        Assert.Equal("1 girl , long hair", tokenizer.Decode(tokenizer.Encode("1girl, long hair")));
        Assert.Equal("zebra", tokenizer.Decode(tokenizer.Encode("Zebra")));

        // Most frequent pair first: the pairs of "long" and "hair" (3 each) beat the rest; ordinal order breaks the tie.
        using var small = new TempDir();
        ClipTokenizer.BuildTiny(captions, 3, small.Path);
        var firstMerges = File.ReadAllLines(small.File("merges.txt"));
        Assert.Equal(4, firstMerges.Length);
        Assert.Equal(["a i", "ai r</w>", "h air</w>"], firstMerges[1..]);
    }
}
