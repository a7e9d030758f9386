using System.Globalization;
using System.Text.RegularExpressions;

namespace NotebookTrainer.Sampling;

/// <summary>Sample image names, <c>{output_name}_{epoch:06d}_{idx:02d}_{yyyyMMddHHmmss}.png</c> (kohya-compat §6).</summary>
public static partial class SampleFileName
{
    /// <summary>The folder in output_dir that kohya's sampling writes into.</summary>
    public const string Folder = "sample";

    public static string Format(string outputName, int epoch, int index, DateTime timestamp) =>
        $"{outputName}_{epoch:D6}_{index:D2}_{timestamp.ToString("yyyyMMddHHmmss", CultureInfo.InvariantCulture)}.png";

    /// <summary>Also reads kohya's own variants: "e" before the epoch and a trailing "_{seed}".</summary>
    public static bool TryParse(string fileName, out string outputName, out int epoch, out int index, out string timestamp)
    {
        var m = Pattern().Match(Path.GetFileName(fileName));
        outputName = m.Success ? m.Groups["name"].Value : "";
        epoch = m.Success ? int.Parse(m.Groups["epoch"].Value, CultureInfo.InvariantCulture) : 0;
        index = m.Success ? int.Parse(m.Groups["index"].Value, CultureInfo.InvariantCulture) : 0;
        timestamp = m.Success ? m.Groups["time"].Value : "";
        return m.Success;
    }

    [GeneratedRegex(@"^(?<name>.*)_e?(?<epoch>\d{6})_(?<index>\d{2})_(?<time>\d{14})(_\d+)?\.png$")]
    private static partial Regex Pattern();
}
