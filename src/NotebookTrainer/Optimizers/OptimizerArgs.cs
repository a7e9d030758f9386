using System.Globalization;

namespace NotebookTrainer.Optimizers;

/// <summary>
/// kohya's optimizer_args: "key=value" strings (e.g. "weight_decay=0.01", "betas=0.9,0.99",
/// "relative_step=False"). Each optimizer reads the keys it knows; <see cref="EnsureAllUsed"/> rejects the rest.
/// </summary>
public sealed class OptimizerArgs
{
    readonly Dictionary<string, string> values = new(StringComparer.Ordinal);
    readonly HashSet<string> used = new(StringComparer.Ordinal);

    public OptimizerArgs(IEnumerable<string>? args = null)
    {
        foreach (var raw in args ?? [])
        {
            var eq = raw.IndexOf('=');
            if (eq <= 0) throw new ArgumentException($"optimizer_args entry \"{raw}\" is not key=value (e.g. \"weight_decay=0.01\").");
            values[raw[..eq].Trim()] = raw[(eq + 1)..].Trim();
        }
    }

    public double Double(string key, double fallback) => Get(key) is { } v ? ParseDouble(key, v) : fallback;

    public double? NullableDouble(string key, double? fallback)
    {
        var v = Get(key);
        return v is null ? fallback : v is "None" or "none" or "null" ? null : ParseDouble(key, v);
    }

    public bool Bool(string key, bool fallback) => Get(key) switch
    {
        null => fallback,
        "True" or "true" or "1" => true,
        "False" or "false" or "0" => false,
        var v => throw new ArgumentException($"optimizer_args {key}={v} is not a boolean; use True or False."),
    };

    public (double, double) Pair(string key, (double, double) fallback)
    {
        var v = Get(key);
        if (v is null) return fallback;
        var parts = v.Trim('(', ')', '[', ']').Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length != 2) throw new ArgumentException($"optimizer_args {key}={v} needs two numbers, e.g. {key}=0.9,0.999.");
        return (ParseDouble(key, parts[0]), ParseDouble(key, parts[1]));
    }

    /// <summary>Throws for keys no one read: a typo would otherwise be silently ignored.</summary>
    public void EnsureAllUsed(string optimizer)
    {
        var unknown = values.Keys.Where(k => !used.Contains(k)).ToList();
        if (unknown.Count > 0)
            throw new ArgumentException($"optimizer_args {string.Join(", ", unknown)} not understood by {optimizer}; it accepts: {string.Join(", ", used.Order())}.");
    }

    /// <summary>Declares keys an optimizer accepts even when not given (for the error message).</summary>
    public void Accept(params string[] keys) { foreach (var k in keys) used.Add(k); }

    string? Get(string key)
    {
        used.Add(key);
        return values.GetValueOrDefault(key);
    }

    static double ParseDouble(string key, string v) => double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out var d)
        ? d : throw new ArgumentException($"optimizer_args {key}={v} is not a number.");
}
