using System.Globalization;
using System.Text;

namespace NotebookTrainer.Sampling;

/// <summary>A run of prompt text and its attention weight; <see cref="IsBreak"/> marks A1111's BREAK (start a new 75-token window).</summary>
public sealed record WeightedText(string Text, double Weight)
{
    public bool IsBreak { get; init; }
}

/// <summary>
/// A1111's attention syntax: <c>(text)</c> × 1.1, <c>[text]</c> ÷ 1.1, <c>(text:1.3)</c> × 1.3, nesting multiplies,
/// <c>\(</c> <c>\)</c> <c>\[</c> <c>\]</c> <c>\\</c> are literal, unclosed brackets still apply to the rest, and a
/// standalone <c>BREAK</c> starts a new window. Neighbouring runs with equal weight are merged.
/// </summary>
public static class PromptAttention
{
    public const double RoundBracketMultiplier = 1.1;
    public const double SquareBracketMultiplier = 1 / 1.1;

    public static IReadOnlyList<WeightedText> Parse(string prompt)
    {
        var runs = new List<(string Text, double Weight, bool IsBreak)>();
        var roundOpen = new Stack<int>();
        var squareOpen = new Stack<int>();
        var text = new StringBuilder();

        void FlushText()
        {
            if (text.Length == 0) return;
            var parts = SplitOnBreak(text.ToString());
            for (var p = 0; p < parts.Count; p++)
            {
                if (p > 0) runs.Add(("BREAK", -1, true));
                runs.Add((parts[p], 1.0, false));
            }
            text.Clear();
        }

        void Multiply(int from, double factor)
        {
            for (var i = from; i < runs.Count; i++)
                if (!runs[i].IsBreak) runs[i] = runs[i] with { Weight = runs[i].Weight * factor };
        }

        for (var i = 0; i < prompt.Length; i++)
        {
            var c = prompt[i];
            if (c == '\\' && i + 1 < prompt.Length && prompt[i + 1] is '(' or ')' or '[' or ']' or '\\')
            {
                FlushText();
                runs.Add((prompt[++i].ToString(), 1.0, false));
            }
            else if (c == '(') { FlushText(); roundOpen.Push(runs.Count); }
            else if (c == '[') { FlushText(); squareOpen.Push(runs.Count); }
            else if (c == ':' && roundOpen.Count > 0 && TryReadWeight(prompt, i, out var weight, out var end))
            {
                FlushText();
                Multiply(roundOpen.Pop(), weight);
                i = end;
            }
            else if (c == ')' && roundOpen.Count > 0) { FlushText(); Multiply(roundOpen.Pop(), RoundBracketMultiplier); }
            else if (c == ']' && squareOpen.Count > 0) { FlushText(); Multiply(squareOpen.Pop(), SquareBracketMultiplier); }
            else text.Append(c);
        }
        FlushText();
        foreach (var start in roundOpen) Multiply(start, RoundBracketMultiplier);
        foreach (var start in squareOpen) Multiply(start, SquareBracketMultiplier);

        var merged = new List<WeightedText>();
        foreach (var (t, w, isBreak) in runs)
        {
            if (!isBreak && merged.Count > 0 && !merged[^1].IsBreak && merged[^1].Weight == w)
                merged[^1] = merged[^1] with { Text = merged[^1].Text + t };
            else
                merged.Add(new WeightedText(t, w) { IsBreak = isBreak });
        }
        return merged.Count == 0 ? [new WeightedText("", 1.0)] : merged;
    }

    /// <summary>":" + optional spaces + a number + optional spaces + ")" starting at <paramref name="colon"/>.</summary>
    static bool TryReadWeight(string s, int colon, out double weight, out int closing)
    {
        weight = 0;
        closing = -1;
        var i = colon + 1;
        while (i < s.Length && char.IsWhiteSpace(s[i])) i++;
        var start = i;
        if (i < s.Length && s[i] is '+' or '-') i++;
        while (i < s.Length && (char.IsAsciiDigit(s[i]) || s[i] == '.')) i++;
        if (!double.TryParse(s.AsSpan(start, i - start), NumberStyles.Float, CultureInfo.InvariantCulture, out weight)) return false;
        while (i < s.Length && char.IsWhiteSpace(s[i])) i++;
        if (i >= s.Length || s[i] != ')') return false;
        closing = i;
        return true;
    }

    /// <summary>Splits on the word BREAK surrounded by whitespace (or the text's ends).</summary>
    static List<string> SplitOnBreak(string text)
    {
        var parts = new List<string>();
        var start = 0;
        for (var i = text.IndexOf("BREAK", StringComparison.Ordinal); i >= 0; i = text.IndexOf("BREAK", i + 5, StringComparison.Ordinal))
        {
            var before = i == 0 || char.IsWhiteSpace(text[i - 1]);
            var after = i + 5 == text.Length || char.IsWhiteSpace(text[i + 5]);
            if (!before || !after) continue;
            parts.Add(text[start..i].TrimEnd());
            start = i + 5;
            while (start < text.Length && char.IsWhiteSpace(text[start])) start++;
        }
        parts.Add(text[start..]);
        return parts;
    }
}
