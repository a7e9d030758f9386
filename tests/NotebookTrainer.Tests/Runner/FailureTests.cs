using NotebookTrainer.Runner;
using static NotebookTrainer.Tests.Runner.RunnerWorkspace;

namespace NotebookTrainer.Tests.Runner;

[Collection(RunnerCollection.Name)]
public sealed class FailureTests : IDisposable
{
    readonly RunnerWorkspace workspace = new();

    public void Dispose() => workspace.Dispose();

    [Fact]
    public async Task A_compile_error_stops_the_run_naming_notebook_cell_and_line()
    {
        var (result, log) = await workspace.RunAsync("errors/01-compile.ipynb");

        Assert.Equal(NotebookRunner.CellFailed, result.ExitCode);
        Assert.Equal("notebook 01-compile.ipynb, cell 2, line 2: error CS0103: The name 'undefinedName' does not exist in the current context", result.Error);
        Assert.Contains("cell 2/3 FAILED", log);

        var notebook = workspace.Executed("01-compile.ipynb");
        var error = Assert.Single(Outputs(notebook, 2))!;
        Assert.Equal("error", error["output_type"]!.GetValue<string>());
        Assert.Equal("CompilationError", error["ename"]!.GetValue<string>());
        Assert.Contains("line 2, column 13: error CS0103", error["traceback"]![0]!.GetValue<string>());
        Assert.Null(notebook["cells"]![2]!["execution_count"]);
        Assert.Equal("failed", notebook["metadata"]!["ntrain_notebooks"]!["status"]!.GetValue<string>());
        AssertValidNbformat(Path.Combine(workspace.Output, "01-compile.ipynb"));
        Assert.Contains("failed at cell 2, line 2", workspace.Report);
    }

    [Fact]
    public void Ctrl_c_cancels_the_token_cells_see_so_long_work_stops_cleanly_and_no_further_cell_runs()
    {
        using var cancel = new CancellationTokenSource();
        var log = new StringWriter();
        var options = new RunnerOptions([Path.Combine(Fixtures, "cancel")], workspace.Output, null, new Dictionary<string, string>());
        cancel.CancelAfter(TimeSpan.FromSeconds(3));
        var result = NotebookRunner.Run(options, log, cancel.Token);

        Assert.Equal(NotebookRunner.Cancelled, result.ExitCode);
        var notebook = workspace.Executed("01-long-work.ipynb");
        Assert.Equal("stopped cleanly\n", Text(Assert.Single(Outputs(notebook, 2))!["text"]));
        Assert.DoesNotContain(Outputs(notebook, 3), o => o!["output_type"]!.GetValue<string>() == "stream");
        Assert.Contains("cancelled (Ctrl+C)", result.Error);
        AssertValidNbformat(Path.Combine(workspace.Output, "01-long-work.ipynb"));
    }

    [Fact]
    public async Task A_runtime_exception_reports_type_message_and_the_cell_line_from_the_stack_trace()
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var exitCode = RunnerCommandLine.Run(
            [Path.Combine(Fixtures, "errors"), "--out", workspace.Output], stdout, stderr);

        Assert.Equal(NotebookRunner.CellFailed, exitCode);
        // The folder stops at its first notebook's failure; 02-runtime is not run.
        Assert.Equal("notebook 01-compile.ipynb, cell 2, line 2: error CS0103: The name 'undefinedName' does not exist in the current context", stderr.ToString().Trim());
        Assert.False(File.Exists(Path.Combine(workspace.Output, "02-runtime.ipynb")));

        var (result, _) = await workspace.RunAsync("errors/02-runtime.ipynb");
        Assert.Equal(NotebookRunner.CellFailed, result.ExitCode);
        Assert.Equal("notebook 02-runtime.ipynb, cell 2, line 3: System.InvalidOperationException: boom <b>2</b>", result.Error);

        var notebook = workspace.Executed("02-runtime.ipynb");
        Assert.Equal("before the failure\n", Text(Outputs(notebook, 1)[0]!["text"]));
        var error = Assert.Single(Outputs(notebook, 2))!;
        Assert.Equal("System.InvalidOperationException", error["ename"]!.GetValue<string>());
        Assert.Equal("boom <b>2</b>", error["evalue"]!.GetValue<string>());
        Assert.Contains(error["traceback"]!.AsArray(), line => line!.GetValue<string>().Contains(".cell2.csx:line 3"));
        AssertValidNbformat(Path.Combine(workspace.Output, "02-runtime.ipynb"));
        Assert.Contains("boom &lt;b&gt;2&lt;/b&gt;", workspace.Report);
        Assert.DoesNotContain("boom <b>", workspace.Report);
    }

    [Fact]
    public async Task Errors_in_loaded_files_and_missing_references_name_the_file_and_the_fix()
    {
        var (loadError, _) = await workspace.RunAsync("errors/03-load-error.ipynb");
        Assert.Equal(NotebookRunner.CellFailed, loadError.ExitCode);
        Assert.Equal("notebook 03-load-error.ipynb, cell 2, line 1: broken.csx(3,17): error CS0103: The name 'missingValue' does not exist in the current context", loadError.Error);

        var (missing, _) = await workspace.RunAsync("errors/04-missing-reference.ipynb");
        Assert.Equal(NotebookRunner.CellFailed, missing.ExitCode);
        Assert.StartsWith("notebook 04-missing-reference.ipynb, cell 1, line 1: error CS0006: Metadata file 'libs/NotThere.dll' could not be found. The runner maps #r", missing.Error);
        AssertValidNbformat(Path.Combine(workspace.Output, "04-missing-reference.ipynb"));

        // #!csharp only selects the kernel and is accepted; other magic commands are refused with the fix.
        var (magic, _) = await workspace.RunAsync("errors/05-magic.ipynb");
        Assert.Equal("notebook 05-magic.ipynb, cell 2, line 2: magic command '#!time' is a Polyglot kernel feature the runner does not run; remove it (plain C# runs in every host).", magic.Error);
    }

    [Fact]
    public async Task Bad_arguments_and_missing_inputs_exit_2_with_the_fix()
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        Assert.Equal(2, RunnerCommandLine.Run(["notebooks", "--param", "no-equals"], stdout, stderr));
        Assert.Contains("--param 'no-equals': expected name=value", stderr.ToString());

        var (missing, _) = await workspace.RunAsync("does-not-exist");
        Assert.Equal(NotebookRunner.BadInput, missing.ExitCode);
        Assert.Contains("does-not-exist: no such notebook or folder", missing.Error);

        var broken = Path.Combine(workspace.Output, "01-broken.ipynb");
        File.WriteAllText(broken, "{\"cells\": [], \"nbformat\": 3}");
        var (old, _) = await workspace.RunAsync(broken);
        Assert.Equal(NotebookRunner.BadInput, old.ExitCode);
        Assert.Contains("\"nbformat\" must be 4", old.Error);
    }
}
