using System.Reflection;
using System.Text.RegularExpressions;

namespace NotebookTrainer.Display;

/// <summary>The plotly.js that Plotly.NET embeds as a resource, for pages that must work offline.</summary>
public static partial class PlotlyJs
{
    static readonly Lazy<(string Name, string Version)> Resource = new(() =>
    {
        var assembly = typeof(Plotly.NET.GenericChart).Assembly;
        var name = assembly.GetManifestResourceNames().FirstOrDefault(n => VersionPattern().IsMatch(n))
            ?? throw new InvalidOperationException($"{assembly.GetName().Name} {assembly.GetName().Version} has no embedded plotly-<version>.min.js resource.");
        return (name, VersionPattern().Match(name).Groups[1].Value);
    });

    public static string Version => Resource.Value.Version;

    /// <summary>The minified plotly.js source (about 3.5 MB).</summary>
    public static string Source()
    {
        using var stream = typeof(Plotly.NET.GenericChart).Assembly.GetManifestResourceStream(Resource.Value.Name)!;
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }

    [GeneratedRegex(@"plotly-(\d+\.\d+\.\d+)\.min\.js$")]
    private static partial Regex VersionPattern();
}
