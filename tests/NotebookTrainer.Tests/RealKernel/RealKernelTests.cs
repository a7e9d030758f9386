using System.Reflection;
using System.Text.Json.Nodes;
using Xunit.Abstractions;
using static NotebookTrainer.Tests.Runner.RunnerWorkspace;

namespace NotebookTrainer.Tests.RealKernel;

/// <summary>
/// The compatibility proof: every notebook runs in the real .NET Interactive kernel (Jupyter protocol, nbclient)
/// as cleanly as in our runner. Slow (it trains twice); <c>dotnet test --filter "Category!=RealKernel"</c>
/// leaves it out of a quick local run.
/// </summary>
[Trait("Category", "RealKernel")]
public sealed class RealKernelTests(RealKernelRun run, ITestOutputHelper output) : IClassFixture<RealKernelRun>
{
    [Fact]
    public void Every_notebook_runs_in_the_kernel_without_error_or_stderr_output()
    {
        output.WriteLine($"dotnet-interactive {run.KernelVersion}; runner {run.RunnerDuration.TotalSeconds:0} s, kernel {run.KernelDuration.TotalSeconds:0} s");
        Assert.True(run.KernelExitCode == 0, $"the kernel run failed (exit code {run.KernelExitCode}):\n{Tail(run.KernelLog)}");
        foreach (var notebook in run.Notebooks)
        {
            var executed = run.Executed(run.KernelOutput, notebook);
            foreach (var (cell, outputs) in CodeCellOutputs(executed))
            foreach (var o in outputs)
            {
                var type = o["output_type"]!.GetValue<string>();
                if (type == "error") Assert.Fail($"{notebook}, cell {cell}: {o["ename"]}: {o["evalue"]}");
                if (type == "stream" && o["name"]!.GetValue<string>() == "stderr") Assert.Fail($"{notebook}, cell {cell} wrote to stderr:\n{Text(o["text"])}");
            }
        }
    }

    [Fact]
    public void The_runner_runs_every_notebook() =>
        Assert.True(run.RunnerExitCode == 0, $"the runner failed (exit code {run.RunnerExitCode}):\n{Tail(run.RunnerLog)}");

    /// <summary>
    /// Our formatters render library results; the kernel's own HTML formatter (its tree views and tables carry
    /// <c>dni-</c> classes) must never be what shows one.
    /// </summary>
    [Fact]
    public void Library_results_show_as_our_html_not_the_kernels_default_formatter()
    {
        foreach (var notebook in run.Notebooks)
        foreach (var (cell, outputs) in CodeCellOutputs(run.Executed(run.KernelOutput, notebook)))
        foreach (var o in outputs.Where(o => o["data"]?["text/html"] is not null))
        {
            var html = Text(o["data"]!["text/html"]);
            if (IsKernelBootstrap(html)) continue;
            Assert.False(html.Contains("dni-", StringComparison.Ordinal), $"{notebook}, cell {cell} shows a value with the kernel's default formatter:\n{html[..Math.Min(html.Length, 400)]}");
        }
    }

    [Theory]
    [InlineData("04-")]
    [InlineData("05-")]
    [InlineData("06-")]
    public void Charts_are_drawn_in_the_kernel(string prefix)
    {
        var notebook = run.Notebooks.Single(n => n.StartsWith(prefix, StringComparison.Ordinal));
        var charts = CodeCellOutputs(run.Executed(run.KernelOutput, notebook))
            .SelectMany(c => c.Outputs)
            .Where(o => o["data"]?["text/html"] is { } html && Text(html).Contains("<div id=\"nt-chart-", StringComparison.Ordinal) && Text(html).Contains("newPlot(", StringComparison.Ordinal));
        Assert.True(charts.Any(), $"{notebook} shows no chart in the kernel");
    }

    /// <summary>
    /// Per code cell, the same sequence of output kinds (stdout, stderr, error, HTML, image, text) in both hosts;
    /// the kernel's own first-cell bootstrap script is not a notebook output.
    /// </summary>
    [Fact]
    public void The_runner_and_the_kernel_show_the_same_kinds_of_outputs_per_cell()
    {
        Assert.True(run.RunnerExitCode == 0 && run.KernelExitCode == 0, "both hosts must finish first (see the other tests)");
        var differences = new List<string>();
        foreach (var notebook in run.Notebooks)
        {
            var runner = CodeCellOutputs(run.Executed(run.RunnerOutput, notebook)).ToDictionary(c => c.Cell, c => Kinds(c.Outputs));
            var kernel = CodeCellOutputs(run.Executed(run.KernelOutput, notebook)).ToDictionary(c => c.Cell, c => Kinds(c.Outputs));
            Assert.Equal(runner.Keys, kernel.Keys);
            foreach (var cell in runner.Keys.Where(c => !runner[c].SequenceEqual(kernel[c])))
                differences.Add($"{notebook}, cell {cell}: runner [{string.Join(", ", runner[cell])}], kernel [{string.Join(", ", kernel[cell])}]");
        }
        Assert.True(differences.Count == 0, string.Join("\n", differences));
    }

    /// <summary>
    /// Two versions of one assembly cannot live side by side in the kernel: whatever artifacts/lib ships that the
    /// kernel also has (its tool folder, the .NET and ASP.NET Core shared frameworks) must be the kernel's version.
    /// </summary>
    [Fact]
    public void Artifacts_lib_ships_no_assembly_the_kernel_holds_in_another_version()
    {
        var kernel = KernelAssemblies();
        Assert.Contains("FSharp.Core", kernel.Keys);
        Assert.Contains("Microsoft.DotNet.Interactive", kernel.Keys);
        var shipped = Assemblies(Path.Combine(run.Root, "artifacts", "lib"));
        Assert.Contains("NotebookTrainer", shipped.Keys);
        var clashes = shipped.Where(a => kernel.TryGetValue(a.Key, out var version) && version != a.Value)
            .Select(a => $"{a.Key} {a.Value} (the kernel has {kernel[a.Key]})").ToList();
        Assert.True(clashes.Count == 0, "artifacts/lib ships assemblies the kernel already has in another version:\n" + string.Join("\n", clashes));
    }

    Dictionary<string, Version> KernelAssemblies()
    {
        var packages = System.Environment.GetEnvironmentVariable("NUGET_PACKAGES")
            ?? Path.Combine(System.Environment.GetFolderPath(System.Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        var version = run.KernelVersion.Split('+')[0];
        var tool = Directory.GetDirectories(Path.Combine(packages, "microsoft.dotnet-interactive", version, "tools"), "any", SearchOption.AllDirectories).Single();
        var netCore = Path.GetDirectoryName(typeof(object).Assembly.Location)!;
        var aspNetCore = Path.Combine(netCore, "..", "..", "Microsoft.AspNetCore.App", Path.GetFileName(netCore));
        var all = new Dictionary<string, Version>(StringComparer.OrdinalIgnoreCase);
        foreach (var folder in new[] { tool, netCore, aspNetCore })
        foreach (var (name, assemblyVersion) in Assemblies(folder))
            all.TryAdd(name, assemblyVersion);
        return all;
    }

    static Dictionary<string, Version> Assemblies(string folder)
    {
        var found = new Dictionary<string, Version>(StringComparer.OrdinalIgnoreCase);
        foreach (var file in Directory.EnumerateFiles(folder, "*.dll"))
        {
            AssemblyName name;
            try { name = AssemblyName.GetAssemblyName(file); }
            catch (BadImageFormatException) { continue; }   // a native library (libtorch, onnxruntime)
            found[name.Name!] = name.Version!;
        }
        return found;
    }

    static IEnumerable<(int Cell, List<JsonObject> Outputs)> CodeCellOutputs(JsonObject notebook) =>
        notebook["cells"]!.AsArray().Select((c, i) => (Cell: c!, Number: i + 1))
            .Where(c => c.Cell["cell_type"]!.GetValue<string>() == "code")
            .Select(c => (c.Number, c.Cell["outputs"]!.AsArray().Cast<JsonObject>().ToList()));

    static List<string> Kinds(IEnumerable<JsonObject> outputs)
    {
        var kinds = new List<string>();
        foreach (var o in outputs)
        {
            var data = o["data"];
            if (data?["text/html"] is { } html && IsKernelBootstrap(Text(html))) continue;
            var kind = o["output_type"]!.GetValue<string>() switch
            {
                "stream" => o["name"]!.GetValue<string>(),
                "error" => "error",
                _ when data?["text/html"] is not null => "html",
                _ when data?["image/png"] is not null => "image",
                _ => "text",
            };
            // Hosts split a stream into messages differently; consecutive pieces of one stream are one output.
            if (kind is "stdout" or "stderr" && kinds.Count > 0 && kinds[^1] == kind) continue;
            kinds.Add(kind);
        }
        return kinds;
    }

    /// <summary>The script the kernel puts in the first cell it runs to reach its HTTP API.</summary>
    static bool IsKernelBootstrap(string html) => html.Contains("id='dotnet-interactive-this-cell-", StringComparison.Ordinal);

    static string Tail(string log) => log.Length <= 6000 ? log : "…" + log[^6000..];
}
