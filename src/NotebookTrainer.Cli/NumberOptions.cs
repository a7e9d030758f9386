using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;

namespace NotebookTrainer.Cli;

/// <summary>
/// Options that take a number, read in the invariant culture (0.35 on every machine); a value that is not a number or
/// is out of range is a usage error naming the option.
/// </summary>
public static class NumberOptions
{
    public static Option<int> Whole(string name, int defaultValue, string description, int min = int.MinValue, int max = int.MaxValue) => new(name)
    {
        Description = description, HelpName = "N", DefaultValueFactory = _ => defaultValue, CustomParser = r => ParseWhole(r, name, min, max) ?? defaultValue,
    };

    /// <summary>A whole number whose absence (null) means something of its own, e.g. "each prompt's own steps".</summary>
    public static Option<int?> OptionalWhole(string name, string description, int min = int.MinValue, int max = int.MaxValue) => new(name)
    {
        Description = description, HelpName = "N", CustomParser = r => ParseWhole(r, name, min, max),
    };

    public static Option<double> Decimal(string name, double defaultValue, string description, double min = double.MinValue, double max = double.MaxValue) => new(name)
    {
        Description = description, HelpName = "X", DefaultValueFactory = _ => defaultValue, CustomParser = r => ParseDecimal(r, name, min, max) ?? defaultValue,
    };

    static int? ParseWhole(ArgumentResult result, string name, int min, int max)
    {
        var text = result.Tokens[^1].Value;
        if (!int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value))
            result.AddError($"{name} must be a whole number, not '{text}'.");
        else if (value < min || value > max)
            result.AddError(max == int.MaxValue ? $"{name} must be at least {min}, not {value}." : $"{name} must be {min} to {max}, not {value}.");
        else return value;
        return null;
    }

    static double? ParseDecimal(ArgumentResult result, string name, double min, double max)
    {
        var text = result.Tokens[^1].Value;
        if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value))
            result.AddError($"{name} must be a number such as 0.35, not '{text}'.");
        else if (value < min || value > max)
            result.AddError(string.Create(CultureInfo.InvariantCulture, $"{name} must be between {min} and {max}, not {value}."));
        else return value;
        return null;
    }
}
