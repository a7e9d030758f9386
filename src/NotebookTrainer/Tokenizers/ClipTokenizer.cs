using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using NotebookTrainer.IO;

namespace NotebookTrainer.Tokenizers;

/// <summary>
/// CLIP's byte-level BPE, read from a diffusers/transformers <c>tokenizer/</c> folder (vocab.json + merges.txt, plus
/// special_tokens_map.json / tokenizer_config.json for the pad token). Encodes the way CLIPTokenizer does: cleaned,
/// lower-cased text, CLIP's pre-tokenizer regex, bytes mapped to printable characters, <c>&lt;/w&gt;</c> on the last
/// symbol of each word, merges applied lowest rank first. Words added with <see cref="WithAddedWords"/> (Textual
/// Inversion tokens) are matched before BPE, as transformers matches added tokens.
/// </summary>
public sealed partial class ClipTokenizer
{
    public const string StartOfText = "<|startoftext|>";
    public const string EndOfText = "<|endoftext|>";
    public const string EndOfWord = "</w>";
    public const int ModelMaxLength = 77;

    readonly Dictionary<string, int> vocab;
    readonly string[] idToToken;
    readonly Dictionary<(string, string), int> mergeRanks;
    readonly Dictionary<string, string[]> cache = new(StringComparer.Ordinal);
    readonly Dictionary<string, int[]> addedWords;
    readonly Regex? addedWordPattern;

    ClipTokenizer(Dictionary<string, int> vocab, Dictionary<(string, string), int> mergeRanks, int padId, Dictionary<string, int[]>? addedWords = null)
    {
        this.vocab = vocab;
        this.mergeRanks = mergeRanks;
        this.addedWords = addedWords ?? new Dictionary<string, int[]>(StringComparer.Ordinal);
        // Longest first, so "mychar2" wins over "mychar"; a match must not sit inside a longer word.
        addedWordPattern = this.addedWords.Count == 0 ? null : new Regex(
            @"(?<![\p{L}\p{N}])(?:" + string.Join("|", this.addedWords.Keys.OrderByDescending(w => w.Length).Select(Regex.Escape)) + @")(?![\p{L}\p{N}])",
            RegexOptions.CultureInvariant);
        idToToken = new string[vocab.Values.Max() + 1];
        foreach (var (token, id) in vocab) idToToken[id] = token;
        BosId = vocab[StartOfText];
        EosId = vocab[EndOfText];
        PadId = padId;
        cache[StartOfText] = [StartOfText];
        cache[EndOfText] = [EndOfText];
    }

    /// <summary>49406 in CLIP's vocabulary.</summary>
    public int BosId { get; }
    /// <summary>49407 in CLIP's vocabulary.</summary>
    public int EosId { get; }
    /// <summary>EOS for SD1; "!" (id 0) for SD2, whose tokenizer config names it as pad token.</summary>
    public int PadId { get; }
    public int VocabSize => vocab.Count;

    /// <summary>Words that stand for token ids of their own (lower case → ids), e.g. a Textual Inversion token and its vectors.</summary>
    public IReadOnlyDictionary<string, int[]> AddedWords => addedWords;

    /// <summary>
    /// A copy that encodes each of <paramref name="words"/> (matched case-insensitively as a whole word in the cleaned
    /// text) as its ids, e.g. a Textual Inversion token as the ids of its new embedding rows. A word may not be empty,
    /// contain spaces, or be added twice.
    /// </summary>
    public ClipTokenizer WithAddedWords(IReadOnlyDictionary<string, int[]> words)
    {
        var merged = new Dictionary<string, int[]>(addedWords, StringComparer.Ordinal);
        foreach (var (word, ids) in words)
        {
            var key = ClipTextCleaner.Clean(word);
            if (key.Length == 0 || key.Contains(' ') || key != word.ToLowerInvariant().Trim())
                throw new ArgumentException($"'{word}' cannot be added as a word: use one word of letters, digits or symbols without spaces.", nameof(words));
            if (ids.Length == 0) throw new ArgumentException($"'{word}' needs at least one token id.", nameof(words));
            if (!merged.TryAdd(key, ids)) throw new ArgumentException($"'{word}' is already an added word; give each embedding its own name.", nameof(words));
        }
        return new ClipTokenizer(vocab, mergeRanks, PadId, merged);
    }

    /// <summary>The same tokenizer padding with <paramref name="padId"/> (SDXL's tokenizer 2 pads with 0, "!").</summary>
    public ClipTokenizer WithPadId(int padId) => new(vocab, mergeRanks, padId, addedWords);

    /// <summary>The message for a single-file checkpoint with no tokenizer beside it.</summary>
    public static string MissingTokenizerHelp(string checkpointPath) =>
        $"no CLIP tokenizer found for {checkpointPath}. Put the model's tokenizer (vocab.json and merges.txt, the 'tokenizer' folder of its diffusers version) in a 'tokenizer' folder next to the checkpoint ({Path.Combine(Path.GetDirectoryName(Path.GetFullPath(checkpointPath))!, "tokenizer")}), or pass --tokenizer DIR.";

    /// <summary>Reads vocab.json and merges.txt from <paramref name="dir"/> and checks that they fit together.</summary>
    public static ClipTokenizer Load(string dir)
    {
        var vocabPath = Path.Combine(dir, "vocab.json");
        var mergesPath = Path.Combine(dir, "merges.txt");
        var missing = new[] { vocabPath, mergesPath }.Where(p => !File.Exists(p)).ToList();
        if (missing.Count > 0)
            throw new TokenizerFormatException($"{dir}: missing {string.Join(" and ", missing.Select(Path.GetFileName))}. A CLIP tokenizer folder (the model's diffusers 'tokenizer' folder) has vocab.json and merges.txt; put one next to the checkpoint as 'tokenizer/' or pass --tokenizer DIR.");
        var vocab = ReadVocab(vocabPath);
        var ranks = ReadMerges(mergesPath, vocab);
        var padToken = ReadPadToken(dir) ?? EndOfText;
        if (!vocab.TryGetValue(padToken, out var padId))
            throw new TokenizerFormatException($"{dir}: pad token '{padToken}' (from special_tokens_map.json / tokenizer_config.json) is not in vocab.json.");
        return new ClipTokenizer(vocab, ranks, padId);
    }

    static Dictionary<string, int> ReadVocab(string path)
    {
        Dictionary<string, int>? vocab;
        try { vocab = JsonSerializer.Deserialize<Dictionary<string, int>>(File.ReadAllText(path)); }
        catch (JsonException e) { throw new TokenizerFormatException($"{path}: not a JSON object of token → id (line {e.LineNumber + 1}): {e.Message}"); }
        if (vocab == null || vocab.Count == 0) throw new TokenizerFormatException($"{path}: the vocabulary is empty.");
        foreach (var special in new[] { StartOfText, EndOfText })
            if (!vocab.ContainsKey(special))
                throw new TokenizerFormatException($"{path}: no '{special}' token; this is not a CLIP vocabulary.");
        if (vocab.Values.Any(id => id < 0) || vocab.Values.Distinct().Count() != vocab.Count)
            throw new TokenizerFormatException($"{path}: token ids must be distinct and non-negative.");
        var missingBytes = ByteEncoder.Where(c => !vocab.ContainsKey(c.ToString())).Take(5).ToList();
        if (missingBytes.Count > 0)
            throw new TokenizerFormatException($"{path}: the byte alphabet is incomplete (missing e.g. {string.Join(", ", missingBytes.Select(c => $"'{c}'"))}); not a byte-level BPE vocabulary.");
        return vocab;
    }

    static Dictionary<(string, string), int> ReadMerges(string path, Dictionary<string, int> vocab)
    {
        var ranks = new Dictionary<(string, string), int>();
        var lineNumber = 0;
        foreach (var line in File.ReadLines(path))
        {
            lineNumber++;
            if (line.StartsWith("#version", StringComparison.Ordinal) || line.Length == 0) continue;
            var parts = line.Split(' ');
            if (parts.Length != 2 || parts[0].Length == 0 || parts[1].Length == 0)
                throw new TokenizerFormatException($"{path}, line {lineNumber}: expected two symbols separated by one space, found '{line}'.");
            foreach (var symbol in new[] { parts[0], parts[1], parts[0] + parts[1] })
                if (!vocab.ContainsKey(symbol))
                    throw new TokenizerFormatException($"{path}, line {lineNumber}: merge '{line}' uses '{symbol}', which vocab.json does not have. vocab.json and merges.txt come from different tokenizers; copy both from the same folder.");
            ranks.TryAdd((parts[0], parts[1]), ranks.Count);
        }
        return ranks;
    }

    static string? ReadPadToken(string dir)
    {
        foreach (var file in new[] { "special_tokens_map.json", "tokenizer_config.json" })
        {
            var path = Path.Combine(dir, file);
            if (!File.Exists(path)) continue;
            try
            {
                var pad = JsonNode.Parse(File.ReadAllText(path))?["pad_token"];
                if (pad is JsonValue v && v.GetValueKind() == JsonValueKind.String) return v.GetValue<string>();
                if (pad?["content"] is JsonValue c && c.GetValueKind() == JsonValueKind.String) return c.GetValue<string>();
            }
            catch (JsonException e)
            {
                throw new TokenizerFormatException($"{path}: not valid JSON (line {e.LineNumber + 1}): {e.Message}");
            }
        }
        return null;
    }

    /// <summary>
    /// BPE pieces of the cleaned text, e.g. "a photo" → ["a&lt;/w&gt;", "photo&lt;/w&gt;"]; an added word gives one piece
    /// per id, named as sd-scripts names Textual Inversion tokens (word, word1, word2, …).
    /// </summary>
    public IReadOnlyList<string> Tokenize(string text) =>
        Segments(text).SelectMany(s => s.Word is { } w ? addedWords[w].Select((_, i) => i == 0 ? w : w + i) : BpePieces(s.Text)).ToList();

    /// <summary>Token ids without BOS/EOS.</summary>
    public IReadOnlyList<int> Encode(string text) =>
        Segments(text).SelectMany(s => s.Word is { } w ? addedWords[w] : BpePieces(s.Text).Select(t => vocab.TryGetValue(t, out var id) ? id : EosId)).ToList();

    /// <summary>The cleaned text cut into plain runs and added words.</summary>
    IEnumerable<(string Text, string? Word)> Segments(string text)
    {
        var cleaned = ClipTextCleaner.Clean(text);
        if (addedWordPattern is null)
        {
            yield return (cleaned, null);
            yield break;
        }
        var start = 0;
        foreach (Match m in addedWordPattern.Matches(cleaned))
        {
            if (m.Index > start) yield return (cleaned[start..m.Index], null);
            yield return (m.Value, m.Value);
            start = m.Index + m.Length;
        }
        if (start < cleaned.Length) yield return (cleaned[start..], null);
    }

    IEnumerable<string> BpePieces(string cleaned) => PreTokenizer().Matches(cleaned).SelectMany(word => Bpe(word.Value));

    /// <summary>
    /// <paramref name="length"/> ids: BOS, the text truncated to length − 2 tokens, EOS, then padding
    /// (what CLIPTokenizer returns with padding="max_length", truncation=True).
    /// </summary>
    public int[] EncodePadded(string text, int length = ModelMaxLength)
    {
        if (length < 2) throw new ArgumentOutOfRangeException(nameof(length), "length must leave room for BOS and EOS.");
        var ids = Encode(text);
        var result = new int[length];
        Array.Fill(result, PadId);
        result[0] = BosId;
        var count = Math.Min(ids.Count, length - 2);
        for (var i = 0; i < count; i++) result[1 + i] = ids[i];
        result[1 + count] = EosId;
        return result;
    }

    /// <summary>
    /// kohya's long-prompt encoding for max_token_length 75/150/225: the caption is encoded to
    /// max_token_length + 2 ids, then cut into windows of BOS + 75 + EOS (77 each) that the text encoder sees one by
    /// one. With a pad token other than EOS (SD2), a window that ends in text gets EOS as its last id and a window
    /// that starts with padding gets EOS after BOS, as kohya does.
    /// </summary>
    public int[][] EncodeWindows(string text, int maxTokenLength = 75)
    {
        if (maxTokenLength is not (75 or 150 or 225))
            throw new ArgumentOutOfRangeException(nameof(maxTokenLength), $"max_token_length must be 75, 150 or 225 (kohya), not {maxTokenLength}.");
        return SplitWindows(EncodePadded(text, maxTokenLength + 2), maxTokenLength);
    }

    /// <summary>
    /// kohya's weighted_captions tokenization: each attention run (text, weight) is tokenized on its own, every token
    /// carries its run's weight, the stream is cut to max_token_length tokens and split into windows like
    /// <see cref="EncodeWindows"/>; BOS, EOS and padding weigh 1.
    /// </summary>
    public (int[][] Ids, float[][] Weights) EncodeWeightedWindows(IEnumerable<(string Text, double Weight)> runs, int maxTokenLength = 75)
    {
        if (maxTokenLength is not (75 or 150 or 225))
            throw new ArgumentOutOfRangeException(nameof(maxTokenLength), $"max_token_length must be 75, 150 or 225 (kohya), not {maxTokenLength}.");
        var tokens = new List<int>();
        var tokenWeights = new List<float>();
        foreach (var (text, weight) in runs)
        {
            var ids = Encode(text);
            tokens.AddRange(ids);
            tokenWeights.AddRange(Enumerable.Repeat((float)weight, ids.Count));
            if (tokens.Count > maxTokenLength) break;
        }
        var count = Math.Min(tokens.Count, maxTokenLength);
        var stream = new int[maxTokenLength + 2];
        var weights = new float[maxTokenLength + 2];
        Array.Fill(stream, PadId);
        Array.Fill(weights, 1f);
        stream[0] = BosId;
        tokens.CopyTo(0, stream, 1, count);
        tokenWeights.CopyTo(0, weights, 1, count);
        stream[1 + count] = EosId;
        var windows = SplitWindows(stream, maxTokenLength);
        const int window = ModelMaxLength - 2;
        var windowWeights = windows.Select((_, w) =>
        {
            var chunk = new float[ModelMaxLength];
            Array.Fill(chunk, 1f);
            Array.Copy(weights, 1 + w * window, chunk, 1, window);
            return chunk;
        }).ToArray();
        return (windows, windowWeights);
    }

    int[][] SplitWindows(int[] ids, int maxTokenLength)
    {
        if (maxTokenLength == 75) return [ids];
        const int window = ModelMaxLength - 2;
        var windows = new List<int[]>();
        for (var start = 1; start < ids.Length - 1; start += window)
        {
            var chunk = new int[ModelMaxLength];
            chunk[0] = ids[0];
            Array.Copy(ids, start, chunk, 1, window);
            chunk[^1] = ids[^1];
            if (PadId != EosId)
            {
                if (chunk[^2] != EosId && chunk[^2] != PadId) chunk[^1] = EosId;
                if (chunk[1] == PadId) chunk[1] = EosId;
            }
            windows.Add(chunk);
        }
        return [.. windows];
    }

    public string Decode(IEnumerable<int> ids)
    {
        var text = new StringBuilder();
        foreach (var id in ids)
        {
            if (addedWords.FirstOrDefault(w => w.Value.Contains(id)).Key is { } word)
            {
                text.Append(word).Append(EndOfWord);
                continue;
            }
            if (id < 0 || id >= idToToken.Length || idToToken[id] is not { } token)
                throw new ArgumentOutOfRangeException(nameof(ids), $"token id {id} is not in the vocabulary.");
            if (id == BosId || id == EosId) continue;
            text.Append(token);
        }
        var bytes = text.ToString().Replace(EndOfWord, " ", StringComparison.Ordinal)
            .Select(c => c == ' ' ? (byte)' ' : ByteDecoder.TryGetValue(c, out var b) ? b : (byte)'?').ToArray();
        return Encoding.UTF8.GetString(bytes).Trim();
    }

    string[] Bpe(string word)
    {
        if (cache.TryGetValue(word, out var cached)) return cached;
        var symbols = Encoding.UTF8.GetBytes(word).Select(b => ByteEncoder[b].ToString()).ToList();
        symbols[^1] += EndOfWord;
        while (symbols.Count > 1)
        {
            var best = -1;
            var bestRank = int.MaxValue;
            for (var i = 0; i < symbols.Count - 1; i++)
                if (mergeRanks.TryGetValue((symbols[i], symbols[i + 1]), out var rank) && rank < bestRank)
                    (best, bestRank) = (i, rank);
            if (best < 0) break;
            var (left, right) = (symbols[best], symbols[best + 1]);
            var merged = new List<string>(symbols.Count);
            for (var i = 0; i < symbols.Count; i++)
            {
                if (i < symbols.Count - 1 && symbols[i] == left && symbols[i + 1] == right)
                {
                    merged.Add(left + right);
                    i++;
                }
                else merged.Add(symbols[i]);
            }
            symbols = merged;
        }
        var result = symbols.ToArray();
        if (cache.Count < 100_000) cache[word] = result;
        return result;
    }

    /// <summary>
    /// GPT-2/CLIP's reversible byte → character table: printable Latin-1 bytes stand for themselves, the other 68
    /// bytes get the characters from U+0100 on, so every byte string is a string of visible characters.
    /// </summary>
    internal static readonly char[] ByteEncoder = BuildByteEncoder();
    static readonly Dictionary<char, byte> ByteDecoder = ByteEncoder.Select((c, b) => (c, b)).ToDictionary(x => x.c, x => (byte)x.b);

    static char[] BuildByteEncoder()
    {
        var table = new char[256];
        var next = 256;
        for (var b = 0; b < 256; b++)
        {
            var printable = b is >= '!' and <= '~' or >= 0xA1 and <= 0xAC or >= 0xAE and <= 0xFF;
            table[b] = printable ? (char)b : (char)next++;
        }
        return table;
    }

    [GeneratedRegex(@"<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex PreTokenizer();

    /// <summary>
    /// Trains a tiny CLIP-format BPE on <paramref name="texts"/> (e.g. the sample captions) and writes vocab.json and
    /// merges.txt to <paramref name="outputDir"/>: the 256 byte symbols, their <c>&lt;/w&gt;</c> forms, one token per
    /// learned merge (most frequent pair first, ties by ordinal order), then BOS and EOS — CLIP's own layout.
    /// </summary>
    public static ClipTokenizer BuildTiny(IEnumerable<string> texts, int merges, string outputDir)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(merges);
        var words = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var text in texts)
            foreach (Match match in PreTokenizer().Matches(ClipTextCleaner.Clean(text)))
                if (match.Value is not (StartOfText or EndOfText))
                    words[match.Value] = words.GetValueOrDefault(match.Value) + 1;

        var segmented = words.ToDictionary(w => w.Key, w =>
        {
            var symbols = Encoding.UTF8.GetBytes(w.Key).Select(b => ByteEncoder[b].ToString()).ToList();
            symbols[^1] += EndOfWord;
            return symbols;
        }, StringComparer.Ordinal);
        var learned = new List<(string Left, string Right)>();
        while (learned.Count < merges)
        {
            var counts = new Dictionary<(string, string), int>();
            foreach (var (word, symbols) in segmented)
                for (var i = 0; i < symbols.Count - 1; i++)
                    counts[(symbols[i], symbols[i + 1])] = counts.GetValueOrDefault((symbols[i], symbols[i + 1])) + words[word];
            if (counts.Count == 0) break;
            var best = counts.OrderByDescending(c => c.Value).ThenBy(c => c.Key.Item1, StringComparer.Ordinal).ThenBy(c => c.Key.Item2, StringComparer.Ordinal).First().Key;
            learned.Add(best);
            foreach (var symbols in segmented.Values)
                for (var i = 0; i < symbols.Count - 1; i++)
                    if (symbols[i] == best.Item1 && symbols[i + 1] == best.Item2)
                    {
                        symbols[i] += symbols[i + 1];
                        symbols.RemoveAt(i + 1);
                    }
        }

        var vocab = new Dictionary<string, int>(StringComparer.Ordinal);
        // CLIP lists the byte symbols by code point: printable Latin-1 first ("!" = 0, "a" = 64), then U+0100 on.
        foreach (var c in ByteEncoder.Order()) vocab[c.ToString()] = vocab.Count;
        foreach (var c in ByteEncoder.Order()) vocab[c + EndOfWord] = vocab.Count;
        foreach (var (left, right) in learned) vocab.TryAdd(left + right, vocab.Count);
        vocab[StartOfText] = vocab.Count;
        vocab[EndOfText] = vocab.Count;

        var json = JsonSerializer.Serialize(vocab, new JsonSerializerOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
        AtomicFile.WriteAllText(Path.Combine(outputDir, "vocab.json"), json);
        AtomicFile.WriteAllText(Path.Combine(outputDir, "merges.txt"), "#version: 0.2\n" + string.Concat(learned.Select(m => $"{m.Left} {m.Right}\n")));
        return Load(outputDir);
    }
}
