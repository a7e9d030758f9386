using System.Text.RegularExpressions;
using NotebookTrainer.Datasets.Config;

namespace NotebookTrainer.Datasets.Captions;

/// <summary>Where training is when a caption is drawn: epoch (1-based as in kohya), global step and total steps.</summary>
public readonly record struct CaptionContext(int Epoch, int Step = 0, int MaxTrainSteps = 0);

/// <summary>
/// The per-sample caption transformations of kohya's dataset, in kohya's order: prefix/suffix, whole-caption dropout,
/// wildcards, then keep_tokens / keep_tokens_separator split, token warmup, shuffle, tag dropout and rejoin, then
/// secondary_separator. All randomness comes from the caller's <see cref="Random"/>, so a seed reproduces captions.
/// </summary>
public static partial class CaptionProcessor
{
    [GeneratedRegex(@"\{([^}]+)\}")]
    private static partial Regex Wildcard();

    public static string Process(string caption, SubsetOptions subset, CaptionContext context, Random random)
    {
        if (subset.CaptionPrefix.Length > 0) caption = subset.CaptionPrefix + " " + caption;
        if (subset.CaptionSuffix.Length > 0) caption = caption + " " + subset.CaptionSuffix;

        var dropped = subset.CaptionDropoutRate > 0 && random.NextDouble() < subset.CaptionDropoutRate;
        dropped |= subset.CaptionDropoutEveryNEpochs > 0 && context.Epoch % subset.CaptionDropoutEveryNEpochs == 0;
        if (dropped) return "";

        if (subset.EnableWildcard)
        {
            if (caption.Contains('\n'))
            {
                var lines = caption.Split('\n');
                caption = lines[random.Next(lines.Length)];
            }
            caption = Wildcard().Replace(caption, m =>
            {
                var options = m.Groups[1].Value.Split('|');
                return options[random.Next(options.Length)];
            });
            caption = caption.Replace("{{", "{").Replace("}}", "}");
        }

        var warmupSteps = subset.TokenWarmupStep < 1 ? Math.Floor(subset.TokenWarmupStep * context.MaxTrainSteps) : subset.TokenWarmupStep;
        if (subset.ShuffleCaption || warmupSteps > 0 || subset.CaptionTagDropoutRate > 0)
        {
            var (fixedTokens, flexTokens, suffixTokens) = Split(caption, subset);
            if (warmupSteps > 0 && context.Step < warmupSteps)
            {
                var count = (int)Math.Floor(context.Step * ((flexTokens.Count - subset.TokenWarmupMin) / warmupSteps)) + subset.TokenWarmupMin;
                flexTokens = flexTokens.Take(Math.Max(0, count)).ToList();
            }
            if (subset.ShuffleCaption) random.Shuffle(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(flexTokens));
            if (subset.CaptionTagDropoutRate > 0)
                flexTokens = flexTokens.Where(_ => random.NextDouble() >= subset.CaptionTagDropoutRate).ToList();
            caption = string.Join(", ", fixedTokens.Concat(flexTokens).Concat(suffixTokens));
        }

        if (subset.SecondarySeparator.Length > 0)
            caption = caption.Replace(subset.SecondarySeparator, subset.CaptionSeparator);
        return caption;
    }

    /// <summary>
    /// Fixed tokens (the first keep_tokens, or everything before keep_tokens_separator), flexible tokens, and fixed
    /// suffix tokens (after a second keep_tokens_separator).
    /// </summary>
    public static (List<string> Fixed, List<string> Flex, List<string> Suffix) Split(string caption, SubsetOptions subset)
    {
        var separator = subset.CaptionSeparator;
        List<string> Tokens(string part) => part.Split(separator).Select(t => t.Trim()).Where(t => t.Length > 0).ToList();

        var keep = subset.KeepTokensSeparator;
        if (keep.Length > 0 && caption.Contains(keep, StringComparison.Ordinal))
        {
            var at = caption.IndexOf(keep, StringComparison.Ordinal);
            var fixedPart = caption[..at];
            var flexPart = caption[(at + keep.Length)..];
            var suffix = new List<string>();
            var second = flexPart.IndexOf(keep, StringComparison.Ordinal);
            if (second >= 0)
            {
                suffix = Tokens(flexPart[(second + keep.Length)..]);
                flexPart = flexPart[..second];
            }
            return (Tokens(fixedPart), Tokens(flexPart), suffix);
        }
        var all = caption.Trim().Split(separator).Select(t => t.Trim()).ToList();
        var k = Math.Min(subset.KeepTokens, all.Count);
        return (all.Take(k).ToList(), all.Skip(k).ToList(), []);
    }
}
