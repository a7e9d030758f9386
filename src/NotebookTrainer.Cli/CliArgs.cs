namespace NotebookTrainer.Cli;

/// <summary>
/// The arguments after a command: positionals, <c>--name value</c> options and <c>--flag</c> switches.
/// Options a command does not declare are errors, so a typo never silently changes a run.
/// </summary>
public sealed class CliArgs
{
    readonly Dictionary<string, List<string>> options = new(StringComparer.Ordinal);
    readonly HashSet<string> flags = new(StringComparer.Ordinal);

    public IReadOnlyList<string> Positionals { get; }

    /// <param name="valueOptions">options that take a value (without the leading --)</param>
    /// <param name="flagOptions">options that take none</param>
    public CliArgs(IEnumerable<string> args, IEnumerable<string> valueOptions, IEnumerable<string> flagOptions)
    {
        var takesValue = valueOptions.ToHashSet(StringComparer.Ordinal);
        var isFlag = flagOptions.ToHashSet(StringComparer.Ordinal);
        var positionals = new List<string>();
        var list = args.ToList();
        for (int i = 0; i < list.Count; i++)
        {
            var a = list[i];
            if (!a.StartsWith("--", StringComparison.Ordinal) || a == "--") { positionals.Add(a); continue; }
            var name = a[2..];
            string? inline = null;
            if (name.IndexOf('=') is var eq and > 0) { inline = name[(eq + 1)..]; name = name[..eq]; }
            if (isFlag.Contains(name) && inline is null) { flags.Add(name); continue; }
            if (!takesValue.Contains(name))
                throw new CliException($"unknown option --{name}. Known: {string.Join(", ", takesValue.Concat(isFlag).Order().Select(o => "--" + o))}.");
            var value = inline ?? (i + 1 < list.Count ? list[++i] : throw new CliException($"--{name} needs a value."));
            if (!options.TryGetValue(name, out var values)) options[name] = values = new List<string>();
            values.Add(value);
        }
        Positionals = positionals;
    }

    public bool Flag(string name) => flags.Contains(name);
    public string? Option(string name) => options.TryGetValue(name, out var v) ? v[^1] : null;
    public IReadOnlyList<string> Options(string name) => options.TryGetValue(name, out var v) ? v : Array.Empty<string>();

    public string Required(string name) => Option(name) ?? throw new CliException($"--{name} is required.");

    public string Positional(int index, string what) =>
        index < Positionals.Count ? Positionals[index] : throw new CliException($"missing {what}.");

    public int Int(string name, int fallback) => Option(name) is not { } s ? fallback
        : int.TryParse(s, out var v) ? v : throw new CliException($"--{name} must be a whole number, not '{s}'.");

    public double Double(string name, double fallback) => Option(name) is not { } s ? fallback
        : double.TryParse(s, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var v) ? v
        : throw new CliException($"--{name} must be a number, not '{s}'.");
}

/// <summary>A usage mistake: printed as one line, exit code 2.</summary>
public sealed class CliException(string message) : Exception(message);
