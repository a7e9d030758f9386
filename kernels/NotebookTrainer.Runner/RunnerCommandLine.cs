namespace NotebookTrainer.Runner;

/// <summary>Parses <c>ntrain-notebooks</c> arguments and prints the outcome; the work is in <see cref="NotebookRunner"/>.</summary>
public static class RunnerCommandLine
{
    public const string Usage = """
        ntrain-notebooks — run .NET (C#) notebooks headless, no Jupyter or Polyglot kernel needed

        usage: ntrain-notebooks <notebook.ipynb | folder>... [--out DIR] [--param name=value]... [--report FILE]

          folder             runs every NN-*.ipynb in it, in name order
          --out DIR          where executed notebooks and report.html go (default: runs/notebooks)
          --param name=value overrides a variable of the cell tagged "parameters" (int, double, bool, else string)
          --report FILE      the HTML report (default: DIR/report.html)

        exit codes: 0 all cells ran, 1 a cell failed (notebook, cell and line are printed), 2 bad arguments or notebook,
          130 stopped by Ctrl+C (the partial notebook and report are still written)
        """;

    public static int Run(string[] args, TextWriter stdout, TextWriter stderr)
    {
        if (args.Length == 0 || args[0] is "-h" or "--help")
        {
            stdout.WriteLine(Usage);
            return args.Length == 0 ? NotebookRunner.BadInput : NotebookRunner.Succeeded;
        }
        RunnerOptions options;
        try
        {
            options = Parse(args);
        }
        catch (ArgumentException e)
        {
            stderr.WriteLine($"ntrain-notebooks: {e.Message}");
            stderr.WriteLine("Run 'ntrain-notebooks --help' for usage.");
            return NotebookRunner.BadInput;
        }
        // First Ctrl+C stops before the next cell and still writes the partial notebook and report; a second one kills.
        using var cancel = new CancellationTokenSource();
        ConsoleCancelEventHandler onCancel = (_, e) =>
        {
            if (cancel.IsCancellationRequested) return;
            e.Cancel = true;
            cancel.Cancel();
        };
        Console.CancelKeyPress += onCancel;
        RunnerResult result;
        try
        {
            result = NotebookRunner.Run(options, stdout, cancel.Token);
        }
        finally
        {
            Console.CancelKeyPress -= onCancel;
        }
        if (result.Error is not null) stderr.WriteLine(result.Error);
        return result.ExitCode;
    }

    public static RunnerOptions Parse(IReadOnlyList<string> args)
    {
        var inputs = new List<string>();
        var parameters = new Dictionary<string, string>(StringComparer.Ordinal);
        string output = Path.Combine("runs", "notebooks");
        string? report = null;
        for (var i = 0; i < args.Count; i++)
        {
            var arg = args[i];
            string Value() => i + 1 < args.Count ? args[++i] : throw new ArgumentException($"{arg} needs a value.");
            switch (arg)
            {
                case "--out":
                    output = Value();
                    break;
                case "--report":
                    report = Value();
                    break;
                case "--param":
                    var pair = Value();
                    var eq = pair.IndexOf('=');
                    if (eq <= 0 || !Microsoft.CodeAnalysis.CSharp.SyntaxFacts.IsValidIdentifier(pair[..eq]))
                        throw new ArgumentException($"--param '{pair}': expected name=value with a C# variable name, e.g. --param max_steps=20.");
                    parameters[pair[..eq]] = pair[(eq + 1)..];
                    break;
                default:
                    if (arg.StartsWith("--", StringComparison.Ordinal)) throw new ArgumentException($"unknown option '{arg}'.");
                    inputs.Add(arg);
                    break;
            }
        }
        if (inputs.Count == 0) throw new ArgumentException("no notebook or folder given.");
        return new RunnerOptions(inputs, output, report, parameters);
    }
}
