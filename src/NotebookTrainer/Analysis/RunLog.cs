using System.Globalization;
using System.Text;
using NotebookTrainer.Display;

namespace NotebookTrainer.Analysis;

/// <summary>One logged training step.</summary>
public sealed record RunLogEntry(int Step, int Epoch, double Loss, double[] LearningRates);

/// <summary>Mean loss of one epoch.</summary>
public sealed record EpochLoss(int Epoch, int Steps, double MeanLoss, double MinLoss, double MaxLoss);

/// <summary>The per-epoch loss table as a notebook shows it.</summary>
public sealed record EpochLossTable(IReadOnlyList<EpochLoss> Epochs) : IHtmlRenderable
{
    public string ToHtml() => Html.Table(["epoch", "steps", "mean loss", "min", "max"], Epochs.Select(e => new object?[]
    {
        e.Epoch, e.Steps, e.MeanLoss.ToString("0.00000", CultureInfo.InvariantCulture),
        e.MinLoss.ToString("0.00000", CultureInfo.InvariantCulture), e.MaxLoss.ToString("0.00000", CultureInfo.InvariantCulture),
    }));
}

/// <summary>
/// The trainer's per-step CSV log (<c>{logging_dir}/{log_prefix}{output_name}/loss.csv</c>, columns step, epoch,
/// loss, optionally smoothed_loss, and one lr_* column per parameter group): loss curve raw and EMA-smoothed,
/// learning-rate curves, per-epoch means.
/// </summary>
public sealed class RunLog : IHtmlRenderable
{
    public const string FileName = "loss.csv";

    RunLog(string path, IReadOnlyList<string> learningRateColumns, IReadOnlyList<RunLogEntry> entries)
    {
        Path = path;
        LearningRateColumns = learningRateColumns;
        Entries = entries;
    }

    public string Path { get; }
    public IReadOnlyList<string> LearningRateColumns { get; }
    public IReadOnlyList<RunLogEntry> Entries { get; }

    /// <summary>The newest <c>loss.csv</c> anywhere under <paramref name="runDir"/>.</summary>
    public static string Find(string runDir)
    {
        if (!Directory.Exists(runDir))
            throw new DirectoryNotFoundException($"run folder {runDir} does not exist.");
        return Directory.EnumerateFiles(runDir, FileName, SearchOption.AllDirectories).OrderByDescending(File.GetLastWriteTimeUtc).FirstOrDefault()
            ?? throw new FileNotFoundException($"no {FileName} under {runDir}; the trainer writes it to <logging_dir or output_dir/logs>/<output_name>/{FileName}.");
    }

    public static RunLog Load(string path)
    {
        using var reader = new StreamReader(path);
        var header = reader.ReadLine()?.Split(',').Select(h => h.Trim()).ToArray()
            ?? throw new InvalidDataException($"{path} is empty; expected a header 'step,epoch,loss,…'.");
        int Column(string name) => Array.IndexOf(header, name) is var i and >= 0 ? i
            : throw new InvalidDataException($"{path}:1: the header has no '{name}' column (found: {string.Join(", ", header)}); expected step, epoch, loss and lr_* columns.");
        var (stepColumn, epochColumn, lossColumn) = (Column("step"), Column("epoch"), Column("loss"));
        var lrColumns = header.Select((h, i) => (h, i)).Where(c => c.h.StartsWith("lr", StringComparison.Ordinal)).ToArray();
        var entries = new List<RunLogEntry>();
        var lineNumber = 1;
        while (reader.ReadLine() is { } line)
        {
            lineNumber++;
            if (line.Length == 0) continue;
            var cells = line.Split(',');
            if (cells.Length != header.Length)
            {
                // A crash can leave a half-written last line; anything else is a broken file.
                if (reader.Peek() < 0) break;
                throw new InvalidDataException($"{path}:{lineNumber}: {cells.Length} values for {header.Length} columns.");
            }
            double Number(int column) => double.TryParse(cells[column], NumberStyles.Float, CultureInfo.InvariantCulture, out var v) ? v
                : throw new InvalidDataException($"{path}:{lineNumber}: column '{header[column]}' is '{cells[column]}', not a number.");
            entries.Add(new RunLogEntry((int)Number(stepColumn), (int)Number(epochColumn), Number(lossColumn), lrColumns.Select(c => Number(c.i)).ToArray()));
        }
        return new RunLog(path, lrColumns.Select(c => c.h).ToList(), entries);
    }

    /// <summary>TensorBoard's smoothing: EMA with weight <paramref name="smoothing"/>, debiased for the first steps.</summary>
    public double[] SmoothedLoss(double smoothing = 0.9)
    {
        var result = new double[Entries.Count];
        double ema = 0, weight = 0;
        for (var i = 0; i < Entries.Count; i++)
        {
            ema = smoothing * ema + (1 - smoothing) * Entries[i].Loss;
            weight = smoothing * weight + (1 - smoothing);
            result[i] = ema / weight;
        }
        return result;
    }

    public IReadOnlyList<EpochLoss> EpochMeans() => Entries.GroupBy(e => e.Epoch).OrderBy(g => g.Key)
        .Select(g => new EpochLoss(g.Key, g.Count(), g.Average(e => e.Loss), g.Min(e => e.Loss), g.Max(e => e.Loss))).ToList();

    public EpochLossTable EpochTable() => new(EpochMeans());

    public Chart LossChart(double smoothing = 0.9)
    {
        var steps = Entries.Select(e => (double)e.Step).ToArray();
        return new Chart(
        [
            new LineTrace("loss", steps, Entries.Select(e => e.Loss).ToArray(), Opacity: 0.35),
            new LineTrace(string.Create(CultureInfo.InvariantCulture, $"EMA {smoothing}"), steps, SmoothedLoss(smoothing)),
        ], XAxisTitle: "step", YAxisTitle: "loss");
    }

    public Chart LearningRateChart()
    {
        var steps = Entries.Select(e => (double)e.Step).ToArray();
        var lines = LearningRateColumns.Select((name, i) => (ChartTrace)new LineTrace(name, steps, Entries.Select(e => e.LearningRates[i]).ToArray())).ToList();
        return new Chart(lines, XAxisTitle: "step", YAxisTitle: "learning rate");
    }

    public string ToHtml()
    {
        var sb = new StringBuilder("<div class=\"nt-run-log\"><h3>Training log</h3>");
        sb.Append("<p>").Append(Html.Escape(Path)).Append(": ").Append(Entries.Count).Append(" steps</p>");
        if (Entries.Count > 0)
        {
            sb.Append(LossChart().ToHtml());
            if (LearningRateColumns.Count > 0) sb.Append(LearningRateChart().ToHtml());
        }
        sb.Append(EpochTable().ToHtml());
        return sb.Append("</div>").ToString();
    }
}
