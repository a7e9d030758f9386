using System.Diagnostics;
using System.Text.Json.Nodes;
using NotebookTrainer.Runner;

namespace NotebookTrainer.Tests.Runner;

/// <summary>
/// Runner tests swap Console.Out/Error and the working directory, which are process-wide, so they never
/// run in parallel with other tests.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class RunnerCollection
{
    public const string Name = "NotebookRunner";
}

/// <summary>Paths, in-process runs and nbformat validation shared by the runner tests.</summary>
public sealed class RunnerWorkspace : IDisposable
{
    public RunnerWorkspace()
    {
        Output = Path.Combine(Path.GetTempPath(), "ntrain-runner-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Output);
    }

    public string Output { get; }

    public static string RepositoryRoot { get; } = FindRepositoryRoot();

    public static string Fixtures => Path.Combine(RepositoryRoot, "tests", "fixtures", "notebooks");

    public async Task<(RunnerResult Result, string Log)> RunAsync(string input, params (string Name, string Value)[] parameters)
    {
        var log = new StringWriter();
        var options = new RunnerOptions([Path.Combine(Fixtures, input)], Output, null, parameters.ToDictionary(p => p.Name, p => p.Value));
        var result = NotebookRunner.Run(options, log);
        return (result, log.ToString());
    }

    public JsonObject Executed(string fileName) => (JsonObject)JsonNode.Parse(File.ReadAllText(Path.Combine(Output, fileName)))!;

    public string Report => File.ReadAllText(Path.Combine(Output, "report.html"));

    public static JsonArray CodeCells(JsonObject notebook) =>
        new(notebook["cells"]!.AsArray().Where(c => c!["cell_type"]!.GetValue<string>() == "code").Select(c => c!.DeepClone()).ToArray());

    public static JsonArray Outputs(JsonObject notebook, int cellNumber) => notebook["cells"]![cellNumber - 1]!["outputs"]!.AsArray();

    public static string Text(JsonNode? node) => node switch
    {
        JsonArray lines => string.Concat(lines.Select(l => l!.GetValue<string>())),
        JsonValue value => value.GetValue<string>(),
        _ => throw new InvalidOperationException($"expected a string or list of strings, got {node?.ToJsonString() ?? "nothing"}"),
    };

    /// <summary>Validates a notebook against the nbformat JSON schema with Debian's python3-nbformat.</summary>
    public static void AssertValidNbformat(string path)
    {
        const string python = "/usr/bin/python3";
        Assert.True(File.Exists(python), $"{python} is missing: install python3 and python3-nbformat (apt-get install python3-nbformat) to validate notebooks.");
        var start = new ProcessStartInfo(python) { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add("import nbformat,sys; nbformat.validate(nbformat.read(sys.argv[1], as_version=4))");
        start.ArgumentList.Add(path);
        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync();
        process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        var errors = stderr.Result;
        Assert.False(errors.Contains("No module named 'nbformat'", StringComparison.Ordinal),
            "python3-nbformat is not installed: apt-get install python3-nbformat (CI installs it in .ci/run).");
        Assert.True(process.ExitCode == 0, $"{path} is not a valid nbformat 4 notebook:\n{errors}");
    }

    public void Dispose()
    {
        if (Directory.Exists(Output)) Directory.Delete(Output, recursive: true);
    }

    static string FindRepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir != null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "NotebookTrainer.sln"))) return dir.FullName;
        throw new InvalidOperationException($"NotebookTrainer.sln not found above {AppContext.BaseDirectory}.");
    }
}
