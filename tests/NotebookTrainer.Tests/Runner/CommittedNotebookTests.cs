using System.Text.Json.Nodes;
using static NotebookTrainer.Tests.Runner.RunnerWorkspace;

namespace NotebookTrainer.Tests.Runner;

/// <summary>The notebooks in notebooks/ follow the format in shared/specs/notebooks.md, so they open in Polyglot, Jupyter and Verso.</summary>
public sealed class CommittedNotebookTests
{
    static readonly string NotebookFolder = Path.Combine(RepositoryRoot, "notebooks");

    public static TheoryData<string> Notebooks()
    {
        var data = new TheoryData<string>();
        foreach (var path in Directory.EnumerateFiles(NotebookFolder, "*.ipynb").Order(StringComparer.Ordinal)) data.Add(Path.GetFileName(path));
        return data;
    }

    [Fact]
    public void The_folder_holds_numbered_notebooks_starting_with_00_install() =>
        Assert.Equal("00-install.ipynb", Path.GetFileName(NotebookTrainer.Runner.NotebookRunner.ResolveNotebooks([NotebookFolder])[0]));

    [Theory]
    [MemberData(nameof(Notebooks))]
    public void Notebook_is_valid_nbformat_with_the_csharp_kernel_metadata(string fileName)
    {
        var path = Path.Combine(NotebookFolder, fileName);
        AssertValidNbformat(path);
        var notebook = (JsonObject)JsonNode.Parse(File.ReadAllText(path))!;

        Assert.Equal(4, notebook["nbformat"]!.GetValue<int>());
        Assert.True(notebook["nbformat_minor"]!.GetValue<int>() >= 5, $"{fileName}: nbformat_minor must be ≥ 5 (cell ids)");
        // language_info.name is what VS Code's Polyglot extension writes for .ipynb (notebookControllers.ts sets
        // "polyglot-notebook" whenever it opens one), so opening a notebook there leaves it unchanged.
        var expectedMetadata = JsonNode.Parse("""
            {"kernelspec": {"display_name": ".NET (C#)", "language": "C#", "name": ".net-csharp"},
             "language_info": {"name": "polyglot-notebook"},
             "polyglot_notebook": {"kernelInfo": {"defaultKernelName": "csharp", "items": [{"aliases": [], "name": "csharp"}]}}}
            """)!;
        foreach (var key in new[] { "kernelspec", "language_info", "polyglot_notebook" })
            Assert.True(JsonNode.DeepEquals(expectedMetadata[key], notebook["metadata"]![key]), $"{fileName}: metadata.{key} must be {expectedMetadata[key]!.ToJsonString()}");

        var expectedCell = JsonNode.Parse("""
            {"dotnet_interactive": {"language": "csharp"}, "polyglot_notebook": {"kernelName": "csharp"}, "vscode": {"languageId": "polyglot-notebook"}}
            """)!;
        var code = notebook["cells"]!.AsArray().Where(c => c!["cell_type"]!.GetValue<string>() == "code").ToList();
        Assert.NotEmpty(code);
        foreach (var (cell, i) in code.Select((c, i) => (c!, i)))
            foreach (var key in new[] { "dotnet_interactive", "polyglot_notebook", "vscode" })
                Assert.True(JsonNode.DeepEquals(expectedCell[key], cell["metadata"]![key]), $"{fileName}: code cell {i + 1} metadata.{key} must be {expectedCell[key]!.ToJsonString()}");

        Assert.Contains(code, c => Text(c!["source"]).Contains("#load \"../kernels/setup.csx\"", StringComparison.Ordinal));
    }

    public const int MaxCodeCellLines = 10;

    /// <summary>A cell calls the library and shows the result; logic that needs more lines belongs in the library.</summary>
    [Theory]
    [MemberData(nameof(Notebooks))]
    public void Every_code_cell_is_at_most_ten_lines(string fileName)
    {
        var notebook = (JsonObject)JsonNode.Parse(File.ReadAllText(Path.Combine(NotebookFolder, fileName)))!;
        var tooLong = notebook["cells"]!.AsArray()
            .Where(c => c!["cell_type"]!.GetValue<string>() == "code")
            .Select(c => (Id: c!["id"]?.GetValue<string>() ?? "?", Lines: Text(c["source"]).TrimEnd('\n').Split('\n').Length))
            .Where(c => c.Lines > MaxCodeCellLines)
            .ToList();
        Assert.True(tooLong.Count == 0,
            $"{fileName}: {string.Join(", ", tooLong.Select(c => $"cell '{c.Id}' has {c.Lines} lines"))}; at most {MaxCodeCellLines} — move the logic into the library and call it from the cell.");
    }
}
