using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using NotebookTrainer.Display;
using NotebookTrainer.Runner.Execution;
using NotebookTrainer.Runner.Ipynb;
using NotebookTrainer.Runner.Report;

namespace NotebookTrainer.Runner;

/// <summary>What to run and where results go.</summary>
public sealed record RunnerOptions(IReadOnlyList<string> Inputs, string OutputDirectory, string? ReportPath, IReadOnlyDictionary<string, string> Parameters)
{
    public string ReportFile => ReportPath ?? Path.Combine(OutputDirectory, "report.html");
}

/// <summary>The outcome of a whole run: exit code 0 (all ran), 1 (a cell failed), 2 (bad input) or 130 (Ctrl+C).</summary>
public sealed record RunnerResult(int ExitCode, IReadOnlyList<NotebookRun> Runs, string? Error);

/// <summary>
/// Runs notebooks top to bottom, each in a fresh session with its folder as working directory, writes each
/// executed .ipynb into the output folder and one HTML report for all of them. Stops at the first failing
/// cell (still writing the partial notebook and the report).
/// </summary>
public static partial class NotebookRunner
{
    public const int Succeeded = 0;
    public const int CellFailed = 1;
    public const int BadInput = 2;
    public const int Cancelled = 130;

    /// <summary>Expands folders to their <c>NN-*.ipynb</c> files in name order.</summary>
    public static IReadOnlyList<string> ResolveNotebooks(IEnumerable<string> inputs)
    {
        var notebooks = new List<string>();
        foreach (var input in inputs)
        {
            if (Directory.Exists(input))
            {
                var found = Directory.EnumerateFiles(input, "*.ipynb")
                    .Where(f => NumberedNotebook().IsMatch(Path.GetFileName(f)))
                    .Order(StringComparer.Ordinal).ToList();
                if (found.Count == 0) throw new NotebookFormatException($"{input}: no NN-*.ipynb notebooks in this folder (e.g. 00-install.ipynb).");
                notebooks.AddRange(found);
            }
            else if (File.Exists(input)) notebooks.Add(input);
            else throw new NotebookFormatException($"{input}: no such notebook or folder.");
        }
        return notebooks.Select(Path.GetFullPath).ToList();
    }

    /// <summary>
    /// Runs the notebooks in order. Each cell starts on the calling thread and the runner blocks until it ends, so
    /// called from Main, cells run on the main thread, where tensor memory is reused between training steps (see
    /// NativeEnvironment); a cell's own awaits may continue elsewhere.
    /// </summary>
    public static RunnerResult Run(RunnerOptions options, TextWriter log, CancellationToken cancellationToken = default)
    {
        List<NotebookDocument> documents;
        try
        {
            documents = ResolveNotebooks(options.Inputs).Select(NotebookDocument.Load).ToList();
            CheckParametersDeclared(documents, options.Parameters);
        }
        catch (NotebookFormatException e)
        {
            return new RunnerResult(BadInput, [], e.Message);
        }

        Directory.CreateDirectory(options.OutputDirectory);
        var outputDirectory = Path.GetFullPath(options.OutputDirectory);
        var reportFile = Path.GetFullPath(options.ReportFile);
        var runs = new List<NotebookRun>();
        RunFailure? failure = null;
        foreach (var document in documents)
        {
            var run = RunNotebook(document, options.Parameters, log, cancellationToken);
            runs.Add(run);
            document.Save(Path.Combine(outputDirectory, document.FileName));
            if (run.Failure is not null)
            {
                failure = run.Failure;
                break;
            }
        }
        HtmlReport.Write(reportFile, runs);
        log.WriteLine($"executed notebooks: {outputDirectory}");
        log.WriteLine($"report: {reportFile}");
        var exitCode = failure is null ? Succeeded : cancellationToken.IsCancellationRequested ? Cancelled : CellFailed;
        return new RunnerResult(exitCode, runs, failure?.ToString());
    }

    static void CheckParametersDeclared(IReadOnlyList<NotebookDocument> documents, IReadOnlyDictionary<string, string> parameters)
    {
        if (parameters.Count == 0) return;
        var declared = documents.SelectMany(d => ParameterInjector.DeclaredParameters(d).Keys).ToHashSet();
        var unknown = parameters.Keys.Where(k => !declared.Contains(k)).ToList();
        if (unknown.Count > 0)
            throw new NotebookFormatException(
                $"--param {string.Join(", ", unknown)}: not declared in any notebook's cell tagged \"parameters\". " +
                (declared.Count == 0 ? "None of these notebooks has a parameters cell." : $"Declared: {string.Join(", ", declared.Order())}."));
    }

    static NotebookRun RunNotebook(NotebookDocument notebook, IReadOnlyDictionary<string, string> parameters, TextWriter log, CancellationToken cancellationToken)
    {
        var injected = ParameterInjector.Inject(notebook, parameters);
        var used = injected.ToDictionary(name => name, name => parameters[name]);
        foreach (var cell in notebook.Cells) cell.ResetOutputs();

        var clock = Stopwatch.StartNew();
        var router = new OutputRouter(new ProgressEcho(log, TimeSpan.FromSeconds(10)));
        using var session = new NotebookSession(notebook.Path, new NotebookGlobals(router));
        var originalOut = Console.Out;
        var originalError = Console.Error;
        var originalDirectory = Directory.GetCurrentDirectory();
        RunFailure? failure = null;
        // Outputs are serialised once the notebook ends: a display handle may still update its output after
        // its cell returned (e.g. a progress report posted from a worker thread).
        var executed = new List<(NotebookCell Cell, int Count, CellOutputs Outputs)>();
        log.WriteLine($"{notebook.FileName}: {notebook.Cells.Count} cells{(used.Count > 0 ? ", parameters " + string.Join(", ", used.Select(p => $"{p.Key}={p.Value}")) : "")}");
        try
        {
            Console.SetOut(new CellStreamWriter("stdout", router, originalOut));
            Console.SetError(new CellStreamWriter("stderr", router, originalError));
            Directory.SetCurrentDirectory(Path.GetDirectoryName(notebook.Path)!);
            NotebookTrainer.Runtime.NotebookHost.IsHeadless = true;
            var executionCount = 0;
            for (var i = 0; i < notebook.Cells.Count; i++)
            {
                var cell = notebook.Cells[i];
                if (!cell.IsCode) continue;
                var cellNumber = i + 1;
                var outputs = new CellOutputs();
                var cellClock = Stopwatch.StartNew();
                router.Current = outputs;
                CellRun result;
                try
                {
                    NotebookTrainer.Runtime.NotebookHost.Cancellation = cancellationToken;
                    result = session.RunCellAsync(cellNumber, cell.Source, cancellationToken).GetAwaiter().GetResult();
                }
                catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
                {
                    result = CellRun.Failed(new CellFailure(1, "cancelled (Ctrl+C)", "OperationCanceledException", "cancelled (Ctrl+C)", []));
                }
                finally
                {
                    router.Current = null;
                }
                executionCount++;
                foreach (var warning in result.Warnings) outputs.AppendStream("stderr", warning + "\n");
                if (result.Succeeded && result.HasTrailingValue)
                    outputs.AddDisplay(MimeRenderer.Render(result.ReturnValue), executionCount);
                if (result.Failure is { } cellFailure)
                {
                    outputs.AddError(cellFailure.ErrorName, cellFailure.ErrorValue, cellFailure.Traceback);
                    failure = new RunFailure(notebook.FileName, cellNumber, cellFailure.Line, cellFailure.Message);
                }
                executed.Add((cell, executionCount, outputs));
                log.WriteLine($"  cell {cellNumber}/{notebook.Cells.Count} {(failure is null ? "ok" : "FAILED")} {cellClock.Elapsed.TotalSeconds.ToString("0.00", CultureInfo.InvariantCulture)} s");
                if (failure is not null) break;
            }
        }
        finally
        {
            Directory.SetCurrentDirectory(originalDirectory);
            Console.SetOut(originalOut);
            Console.SetError(originalError);
        }
        foreach (var (cell, count, outputs) in executed) cell.SetExecuted(count, outputs.ToJson());
        notebook.Metadata["ntrain_notebooks"] = new JsonObject
        {
            ["status"] = failure is null ? "ok" : "failed",
            ["duration_seconds"] = Math.Round(clock.Elapsed.TotalSeconds, 3),
            ["parameters"] = new JsonObject(used.Select(p => KeyValuePair.Create(p.Key, (JsonNode?)p.Value))),
        };
        return new NotebookRun(notebook, used, clock.Elapsed, failure);
    }

    [GeneratedRegex(@"^\d+-.*\.ipynb$")]
    private static partial Regex NumberedNotebook();
}
