using System.Globalization;
using System.Text;
using NotebookTrainer.Display;
using NotebookTrainer.Training;

namespace NotebookTrainer.Analysis;

/// <summary>One logged training step.</summary>
public sealed record RunLogEntry(int Step, int Epoch, double Loss, double[] LearningRates);

/// <summary>
/// One validation pass from <c>validation.csv</c>: mean loss over the held-out batches and fixed timesteps, after a
/// step (<see cref="Kind"/> "step") or at the end of an epoch ("epoch"); <see cref="PerTimestep"/> by timestep.
/// </summary>
public sealed record ValidationEntry(int Step, int Epoch, string Kind, double Loss, double Divergence, IReadOnlyDictionary<int, double> PerTimestep);

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
/// learning-rate curves, per-epoch means; and, when the run held out a validation split, the validation passes from
/// <c>validation.csv</c> beside it (columns step, epoch, kind, loss, divergence, loss_t&lt;timestep&gt;…) with the best epoch.
/// </summary>
public sealed class RunLog : IHtmlRenderable
{
    RunLog(string path, IReadOnlyList<string> learningRateColumns, IReadOnlyList<RunLogEntry> entries, IReadOnlyList<ValidationEntry> validation)
    {
        Path = path;
        LearningRateColumns = learningRateColumns;
        Entries = entries;
        Validation = validation;
    }

    public string Path { get; }
    public IReadOnlyList<string> LearningRateColumns { get; }
    public IReadOnlyList<RunLogEntry> Entries { get; }

    /// <summary>Every validation pass in the order logged (empty without validation_split).</summary>
    public IReadOnlyList<ValidationEntry> Validation { get; }

    /// <summary>The end-of-epoch validation losses, one per epoch (the last pass wins when a resumed run repeated an epoch).</summary>
    public IReadOnlyList<ValidationEntry> ValidationCurve() => Validation.Where(v => v.Kind == "epoch")
        .GroupBy(v => v.Epoch).Select(g => g.Last()).OrderBy(v => v.Epoch).ToList();

    /// <summary>The epoch whose end-of-epoch validation loss is lowest (the earliest on a tie), or null without validation.</summary>
    public ValidationEntry? BestEpoch() => ValidationCurve().OrderBy(v => v.Loss).ThenBy(v => v.Epoch).FirstOrDefault();

    /// <summary>The newest <c>loss.csv</c> anywhere under <paramref name="runDir"/>.</summary>
    public static string Find(string runDir)
    {
        if (!Directory.Exists(runDir))
            throw new DirectoryNotFoundException($"run folder {runDir} does not exist.");
        return Directory.EnumerateFiles(runDir, RunFolder.LossLogFile, SearchOption.AllDirectories).OrderByDescending(File.GetLastWriteTimeUtc).FirstOrDefault()
            ?? throw new FileNotFoundException($"no {RunFolder.LossLogFile} under {runDir}; the trainer writes it to <logging_dir or output_dir/logs>/<output_name>/{RunFolder.LossLogFile}.");
    }

    public static RunLog Load(string path)
    {
        var rows = ReadRows(path, ["step", "epoch", "loss"], out var header);
        var lrColumns = header.Where(h => h.StartsWith("lr", StringComparison.Ordinal)).ToArray();
        var entries = rows.Select(r => new RunLogEntry((int)r.Number("step"), (int)r.Number("epoch"), r.Number("loss"), lrColumns.Select(r.Number).ToArray())).ToList();
        var validation = System.IO.Path.Combine(System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path))!, RunFolder.ValidationLogFile);
        return new RunLog(path, lrColumns, entries, File.Exists(validation) ? LoadValidation(validation) : []);
    }

    /// <summary>Reads a <c>validation.csv</c> the trainer wrote.</summary>
    public static IReadOnlyList<ValidationEntry> LoadValidation(string path)
    {
        var rows = ReadRows(path, ["step", "epoch", "kind", "loss", "divergence"], out var header);
        var timestepColumns = header.Where(h => h.StartsWith("loss_t", StringComparison.Ordinal) && int.TryParse(h[6..], CultureInfo.InvariantCulture, out _)).ToArray();
        return rows.Select(r => new ValidationEntry((int)r.Number("step"), (int)r.Number("epoch"), r.Text("kind"), r.Number("loss"), r.Number("divergence"),
            timestepColumns.ToDictionary(c => int.Parse(c[6..], CultureInfo.InvariantCulture), r.Number))).ToList();
    }

    sealed record CsvRow(string File, int Line, string[] Header, string[] Cells)
    {
        public string Text(string column) => Cells[Array.IndexOf(Header, column)];

        public double Number(string column) => double.TryParse(Text(column), NumberStyles.Float, CultureInfo.InvariantCulture, out var v) ? v
            : throw new InvalidDataException($"{File}:{Line}: column '{column}' is '{Text(column)}', not a number.");
    }

    /// <summary>Rows of a CSV whose header has <paramref name="required"/>; a half-written last line (a crash) is dropped.</summary>
    static List<CsvRow> ReadRows(string path, string[] required, out string[] header)
    {
        using var reader = new StreamReader(path);
        var found = reader.ReadLine()?.Split(',').Select(h => h.Trim()).ToArray()
            ?? throw new InvalidDataException($"{path} is empty; expected a header '{string.Join(",", required)},…'.");
        foreach (var name in required)
            if (!found.Contains(name))
                throw new InvalidDataException($"{path}:1: the header has no '{name}' column (found: {string.Join(", ", found)}); expected {string.Join(", ", required)}.");
        var rows = new List<CsvRow>();
        var lineNumber = 1;
        while (reader.ReadLine() is { } line)
        {
            lineNumber++;
            if (line.Length == 0) continue;
            var cells = line.Split(',');
            if (cells.Length != found.Length)
            {
                if (reader.Peek() < 0) break;
                throw new InvalidDataException($"{path}:{lineNumber}: {cells.Length} values for {found.Length} columns.");
            }
            rows.Add(new CsvRow(path, lineNumber, found, cells));
        }
        header = found;
        return rows;
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
        var traces = new List<ChartTrace>
        {
            new LineTrace("loss", steps, Entries.Select(e => e.Loss).ToArray(), Opacity: 0.35),
            new LineTrace(string.Create(CultureInfo.InvariantCulture, $"EMA {smoothing}"), steps, SmoothedLoss(smoothing)),
        };
        if (ValidationCurve() is { Count: > 0 } curve)
        {
            traces.Add(new LineTrace("validation (epoch end)", curve.Select(v => (double)v.Step).ToArray(), curve.Select(v => v.Loss).ToArray()));
            var best = BestEpoch()!;
            traces.Add(new MarkerTrace(string.Create(CultureInfo.InvariantCulture, $"best: epoch {best.Epoch}"), [best.Step], [best.Loss]));
        }
        return new Chart(traces, XAxisTitle: "step", YAxisTitle: "loss");
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
        if (BestEpoch() is { } best)
            sb.Append("<p>").Append(Html.Escape(string.Create(CultureInfo.InvariantCulture, $"lowest validation loss: epoch {best.Epoch} (step {best.Step}), {best.Loss:0.00000}"))).Append("</p>");
        return sb.Append("</div>").ToString();
    }
}
