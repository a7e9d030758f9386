using System.Text.RegularExpressions;

namespace NotebookTrainer.Display;

/// <summary>
/// The plotly.js that pages embed to work offline: the "basic" bundle (scatter and bar traces, which is
/// everything <see cref="Chart"/> draws), taken at build time from the Plotly.Blazor package.
/// </summary>
public static partial class PlotlyJs
{
    const string ResourceName = "NotebookTrainer.plotly.min.js";

    static readonly Lazy<string> Text = new(() =>
    {
        using var stream = typeof(PlotlyJs).Assembly.GetManifestResourceStream(ResourceName)
            ?? throw new InvalidOperationException($"{typeof(PlotlyJs).Assembly.GetName().Name} has no {ResourceName} resource.");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    });

    /// <summary>The version in the bundle's banner comment (<c>plotly.js (basic - minified) v3.7.0</c>).</summary>
    public static string Version => BannerVersion().Match(Text.Value) is { Success: true } match
        ? match.Groups[1].Value
        : throw new InvalidOperationException($"{ResourceName} has no 'plotly.js … vX.Y.Z' banner.");

    /// <summary>The minified plotly.js source (about 1.1 MB).</summary>
    public static string Source() => Text.Value;

    [GeneratedRegex(@"\A/\*\*\s*\*\s*plotly\.js[^\n]*\bv(\d+\.\d+\.\d+)")]
    private static partial Regex BannerVersion();
}
