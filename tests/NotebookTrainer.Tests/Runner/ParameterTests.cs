using NotebookTrainer.Runner;
using static NotebookTrainer.Tests.Runner.RunnerWorkspace;

namespace NotebookTrainer.Tests.Runner;

[Collection(RunnerCollection.Name)]
public sealed class ParameterTests : IDisposable
{
    readonly RunnerWorkspace workspace = new();

    public void Dispose() => workspace.Dispose();

    [Fact]
    public async Task Params_are_injected_after_the_parameters_cell_as_typed_literals()
    {
        var (result, log) = await workspace.RunAsync("params", ("steps", "7"), ("name", "42"), ("rate", "2.5e-1"), ("verbose", "true"));

        Assert.True(result.ExitCode == 0, $"{result.Error}\n{log}");
        var notebook = workspace.Executed("01-params.ipynb");
        var injected = notebook["cells"]![2]!;
        Assert.Equal(["injected-parameters"], injected["metadata"]!["tags"]!.AsArray().Select(t => t!.GetValue<string>()));
        Assert.Equal("// Parameters injected by ntrain-notebooks --param\nsteps = 7;\nname = \"42\";\nrate = 0.25;\nverbose = true;", Text(injected["source"]));
        Assert.Equal("steps=7 name=42 rate=0.25 verbose=True", Text(Outputs(notebook, 4)[0]!["data"]!["text/plain"]));
        AssertValidNbformat(Path.Combine(workspace.Output, "01-params.ipynb"));
    }

    [Fact]
    public async Task An_undeclared_param_is_refused_listing_the_declared_ones()
    {
        var (result, _) = await workspace.RunAsync("params", ("stpes", "7"));

        Assert.Equal(NotebookRunner.BadInput, result.ExitCode);
        Assert.Equal("--param stpes: not declared in any notebook's cell tagged \"parameters\". Declared: name, rate, steps, verbose.", result.Error);
    }

    [Theory]
    [InlineData("12", null, "12")]
    [InlineData("-3", null, "-3")]
    [InlineData("0.5", null, "0.5")]
    [InlineData("1e-4", null, "0.0001")]
    [InlineData("True", null, "true")]
    [InlineData("sks dog", null, "\"sks dog\"")]
    [InlineData("12", "string", "\"12\"")]
    [InlineData("a \"quoted\"\\path", null, "\"a \\\"quoted\\\"\\\\path\"")]
    [InlineData("0.5", "float", "0.5f")]
    public void Literals_follow_the_value_or_the_declared_type(string value, string? declaredType, string expected) =>
        Assert.Equal(expected, ParameterInjector.Literal(value, declaredType));
}
