using System.Globalization;
using NotebookTrainer.Diffusion;

namespace NotebookTrainer.Sampling;

/// <summary>A parsed sample-prompts file and what was adjusted or ignored on the way.</summary>
public sealed record SamplePromptFile(string Path, IReadOnlyList<SamplePrompt> Prompts, IReadOnlyList<string> Warnings)
{
    /// <summary>
    /// kohya's <c>.txt</c> format: one prompt a line, <c>#</c> comments and blank lines skipped, options after
    /// " --": <c>--n</c> negative, <c>--w</c>/<c>--h</c> (rounded down to ×8, at least 64), <c>--d</c> seed,
    /// <c>--s</c> steps (clamped to 1–1000), <c>--l</c> CFG scale, <c>--ss</c> sampler. Like kohya, unknown
    /// options are ignored (with a warning here); malformed numbers are errors naming the line.
    /// </summary>
    public static SamplePromptFile Load(string path, SamplePrompt? defaults = null)
    {
        if (!File.Exists(path))
            throw new FileNotFoundException($"sample prompts file {path} does not exist; write one prompt per line (see data-templates/sample_prompts.txt).", path);
        return Parse(File.ReadAllLines(path), path, defaults);
    }

    public static SamplePromptFile Parse(IEnumerable<string> lines, string path = "<prompts>", SamplePrompt? defaults = null)
    {
        defaults ??= new SamplePrompt("");
        var prompts = new List<SamplePrompt>();
        var warnings = new List<string>();
        var lineNumber = 0;
        foreach (var raw in lines)
        {
            lineNumber++;
            var line = raw.Trim();
            if (line.Length == 0 || line.StartsWith('#')) continue;
            var parts = line.Split(" --");
            var prompt = defaults with { Prompt = parts[0].Trim(), Line = lineNumber };
            foreach (var part in parts.Skip(1))
            {
                var option = part.Trim();
                var space = option.IndexOf(' ');
                var (name, value) = space < 0 ? (option, "") : (option[..space], option[(space + 1)..].Trim());
                string Where() => $"{path}:{lineNumber}: --{name}";
                switch (name.ToLowerInvariant())
                {
                    case "n": prompt = prompt with { NegativePrompt = value }; break;
                    case "w": prompt = prompt with { Width = Size(Int(value, Where), Where, warnings) }; break;
                    case "h": prompt = prompt with { Height = Size(Int(value, Where), Where, warnings) }; break;
                    case "d": prompt = prompt with { Seed = Int(value, Where) }; break;
                    case "s":
                        var steps = Int(value, Where);
                        var clamped = (int)Math.Clamp(steps, 1, 1000);
                        if (clamped != steps) warnings.Add($"{Where()} {steps} steps clamped to {clamped} (1–1000).");
                        prompt = prompt with { Steps = clamped };
                        break;
                    case "l":
                        if (!double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var scale))
                            throw new FormatException($"{Where()} expects a number (CFG scale, e.g. --l 7.5), not '{value}'.");
                        prompt = prompt with { CfgScale = scale };
                        break;
                    case "ss":
                        try { SamplerCatalog.Create(value, NoiseSchedule.StableDiffusion); }
                        catch (ArgumentException e) { throw new FormatException($"{Where()}: {e.Message}"); }
                        prompt = prompt with { Sampler = value.ToLowerInvariant() };
                        break;
                    default:
                        warnings.Add($"{Where()} is not a sample option this trainer knows (n, w, h, d, s, l, ss); ignored.");
                        break;
                }
            }
            prompts.Add(prompt);
        }
        return new SamplePromptFile(path, prompts, warnings);
    }

    static long Int(string value, Func<string> where) =>
        long.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) ? v
            : throw new FormatException($"{where()} expects a whole number, not '{value}'.");

    static int Size(long value, Func<string> where, List<string> warnings)
    {
        var size = (int)Math.Max(64, Math.Min(value, 8192) / 8 * 8);
        if (size != value) warnings.Add($"{where()} {value} adjusted to {size} (a multiple of 8, at least 64).");
        return size;
    }
}
