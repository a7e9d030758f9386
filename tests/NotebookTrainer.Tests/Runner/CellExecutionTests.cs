using System.Text.Json.Nodes;
using static NotebookTrainer.Tests.Runner.RunnerWorkspace;

namespace NotebookTrainer.Tests.Runner;

[Collection(RunnerCollection.Name)]
public sealed class CellExecutionTests : IDisposable
{
    readonly RunnerWorkspace workspace = new();

    public void Dispose() => workspace.Dispose();

    [Fact]
    public async Task Basics_carry_state_display_update_trailing_expressions_streams_load_and_working_directory()
    {
        var (result, log) = await workspace.RunAsync("basics");

        Assert.True(result.ExitCode == 0, $"{result.Error}\n{log}");
        Assert.Equal(["01-cells.ipynb", "02-references.ipynb"], result.Runs.Select(r => r.Notebook.FileName));
        Assert.Contains("cell 3/11 ok", log);

        var notebook = workspace.Executed("01-cells.ipynb");
        Assert.Equal("markdown", notebook["cells"]![0]!["cell_type"]!.GetValue<string>());
        Assert.Equal([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], CodeCells(notebook).Select(c => c!["execution_count"]!.GetValue<int>()));

        // Cell 2 declares, cell 3 mutates and ends in an expression.
        Assert.Empty(Outputs(notebook, 2));
        var answer = Assert.Single(Outputs(notebook, 3))!;
        Assert.Equal("execute_result", answer["output_type"]!.GetValue<string>());
        Assert.Equal(2, answer["execution_count"]!.GetValue<int>());
        Assert.Equal("42", Text(answer["data"]!["text/plain"]));

        var streams = Outputs(notebook, 4).Select(o => (o!["name"]!.GetValue<string>(), Text(o["text"]))).ToList();
        Assert.Equal([("stdout", "hello from stdout\n"), ("stderr", "careful on stderr\n"), ("stdout", "same stream continues\n")], streams);

        var displays = Outputs(notebook, 5).Select(o => (o!["output_type"]!.GetValue<string>(), Text(o["data"]!["text/plain"]))).ToList();
        Assert.Equal([("display_data", "updated to 42"), ("display_data", "second output")], displays);

        Assert.Equal("hello, notebook", Text(Outputs(notebook, 6)[0]!["data"]!["text/plain"]));
        Assert.Equal("data next to the notebook", Text(Outputs(notebook, 7)[0]!["data"]!["text/plain"]));
        Assert.Empty(Outputs(notebook, 8));

        // A void call at the end shows nothing; a null expression shows <null>, as in the kernel.
        Assert.Equal("stream", Assert.Single(Outputs(notebook, 9))!["output_type"]!.GetValue<string>());
        // A handle updated from a worker thread after its cell returned keeps the final value. `string?` outside a
        // #nullable context warns on stderr before the result, as in the kernel.
        var late = Outputs(notebook, 10);
        Assert.Equal(["display_data", "stream", "execute_result"], late.Select(o => o!["output_type"]!.GetValue<string>()));
        Assert.Equal("finished after its cell", Text(late[0]!["data"]!["text/plain"]));
        Assert.Equal("stderr", late[1]!["name"]!.GetValue<string>());
        Assert.StartsWith("(3,7): warning CS8632: The annotation for nullable reference types", Text(late[1]!["text"]));
        Assert.Equal("<null>", Text(late[2]!["data"]!["text/plain"]));
        Assert.Empty(Outputs(notebook, 11));
        Assert.Equal("ok", notebook["metadata"]!["ntrain_notebooks"]!["status"]!.GetValue<string>());

        AssertValidNbformat(Path.Combine(workspace.Output, "01-cells.ipynb"));
        AssertValidNbformat(Path.Combine(workspace.Output, "02-references.ipynb"));
    }

    [Fact]
    public async Task References_map_to_the_runners_own_library_and_user_text_is_escaped()
    {
        var (result, log) = await workspace.RunAsync("basics/02-references.ipynb");

        Assert.True(result.ExitCode == 0, $"{result.Error}\n{log}");
        var notebook = workspace.Executed("02-references.ipynb");
        // #i is accepted, #r "nuget: NotebookTrainer, …" resolves to the loaded library.
        Assert.Equal("&lt;b&gt;", Text(Outputs(notebook, 1)[0]!["data"]!["text/plain"]));
        // #r of a DLL path that does not exist yet maps to the copy the runner already loaded.
        Assert.Equal(typeof(NotebookTrainer.Display.Html).Assembly.Location, Text(Outputs(notebook, 2)[0]!["data"]!["text/plain"]));
        Assert.Single(AppDomain.CurrentDomain.GetAssemblies(), a => a.GetName().Name == "NotebookTrainer");

        var html = Text(Outputs(notebook, 3)[0]!["data"]!["text/html"]);
        Assert.Equal("<b class='tag'>&lt;script&gt;alert(&#39;tag&#39;)&lt;/script&gt;</b>", html);
        Assert.DoesNotContain("<script>alert", workspace.Report);
    }

    [Fact]
    public async Task Rich_values_render_through_the_shared_mime_renderer()
    {
        var (result, log) = await workspace.RunAsync("rich");

        Assert.True(result.ExitCode == 0, $"{result.Error}\n{log}");
        var notebook = workspace.Executed("01-display.ipynb");

        var progress = Outputs(notebook, 2)[0]!["data"]!;
        Assert.Contains("<progress", Text(progress["text/html"]));
        Assert.Contains("caching &lt;latents&gt;: 3/10", Text(progress["text/html"]));

        var png = Convert.FromBase64String(Outputs(notebook, 3)[0]!["data"]!["image/png"]!.GetValue<string>());
        using (var decoded = SkiaSharp.SKBitmap.Decode(png))
        {
            Assert.Equal((8, 6), (decoded.Width, decoded.Height));
            Assert.Equal(SkiaSharp.SKColors.Orange, decoded.GetPixel(3, 3));
        }

        var chart = Outputs(notebook, 4)[0]!["data"]!;
        Assert.Contains("Plotly", Text(chart["text/html"]));
        Assert.Equal([0.9, 0.5, 0.3], chart["application/vnd.plotly.v1+json"]!["data"]![0]!["y"]!.AsArray().Select(v => v!.GetValue<double>()));

        Assert.Contains("0 1 2 3", Text(Outputs(notebook, 5)[0]!["data"]!["text/plain"]));

        // The progress handle was updated four times in place: one output with the final state.
        var steps = Assert.Single(Outputs(notebook, 6))!;
        Assert.Contains("steps: 4/4", Text(steps["data"]!["text/plain"]));
        // The console echoes progress at most every 10 s, and always the final update.
        Assert.Contains("    steps: 4/4 (100 %)", log);
        Assert.DoesNotContain("steps: 2/4", log);

        AssertValidNbformat(Path.Combine(workspace.Output, "01-display.ipynb"));
    }

    [Fact]
    public async Task An_nbformat_4_4_notebook_without_cell_ids_is_written_as_valid_4_5()
    {
        var input = Path.Combine(workspace.Output, "in", "01-old.ipynb");
        Directory.CreateDirectory(Path.GetDirectoryName(input)!);
        File.WriteAllText(input, """
            {"cells": [{"cell_type": "markdown", "metadata": {}, "source": "# Old"},
                       {"cell_type": "code", "execution_count": 3, "metadata": {}, "outputs": [{"output_type": "stream", "name": "stdout", "text": "stale"}], "source": "1 + 1"}],
             "metadata": {}, "nbformat": 4, "nbformat_minor": 4}
            """);

        var (result, log) = await workspace.RunAsync(input);

        Assert.True(result.ExitCode == 0, $"{result.Error}\n{log}");
        var notebook = workspace.Executed("01-old.ipynb");
        Assert.Equal(5, notebook["nbformat_minor"]!.GetValue<int>());
        Assert.Equal(["cell-1", "cell-2"], notebook["cells"]!.AsArray().Select(c => c!["id"]!.GetValue<string>()));
        var output = Assert.Single(Outputs(notebook, 2))!;
        Assert.Equal("2", Text(output["data"]!["text/plain"]));
        Assert.Equal(1, notebook["cells"]![1]!["execution_count"]!.GetValue<int>());
        AssertValidNbformat(Path.Combine(workspace.Output, "01-old.ipynb"));
    }
}
