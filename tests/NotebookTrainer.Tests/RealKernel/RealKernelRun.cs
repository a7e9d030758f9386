using System.Diagnostics;
using System.Text.Json.Nodes;
using NotebookTrainer.Tests.Runner;

namespace NotebookTrainer.Tests.RealKernel;

/// <summary>
/// Runs notebooks/00…06 twice on a fresh copy of the working tree, as a new user would: first with our runner
/// (the README's main job), then in the real .NET Interactive kernel (the version pinned in dotnet-tools.json,
/// registered in a private Jupyter folder and driven by Debian's nbclient). Each host starts from an empty
/// runs/ folder with default parameters. The tests read the executed notebooks both hosts wrote.
/// </summary>
public sealed class RealKernelRun : IDisposable
{
    public const string KernelName = ".net-csharp";
    static readonly TimeSpan CellTimeout = TimeSpan.FromMinutes(30);
    static readonly TimeSpan RunTimeout = TimeSpan.FromMinutes(40);

    readonly string workspace = Path.Combine(Path.GetTempPath(), "ntrain-real-kernel", Guid.NewGuid().ToString("N"));

    public RealKernelRun()
    {
        try
        {
            Directory.CreateDirectory(workspace);
            CopyWorkingTree(RunnerWorkspace.RepositoryRoot, Root);
            Notebooks = NotebookTrainer.Runner.NotebookRunner.ResolveNotebooks([Path.Combine(Root, "notebooks")]).Select(n => Path.GetFileName(n)).ToList();

            var clock = Stopwatch.StartNew();
            RunnerLog = Run(RunnerCommand(), Root, new Dictionary<string, string>(), out var runnerExit);
            RunnerDuration = clock.Elapsed;
            RunnerExitCode = runnerExit;

            if (Directory.Exists(Path.Combine(Root, "runs"))) Directory.Delete(Path.Combine(Root, "runs"), recursive: true);
            KernelVersion = Run(["dotnet", "interactive", "--version"], Root, Environment(), out var versionExit).Trim();
            if (versionExit != 0)
                throw new InvalidOperationException($"the pinned dotnet-interactive tool is not installed: run build/test.sh or 'dotnet tool restore' in the repository.\n{KernelVersion}");
            var kernelspecs = Path.Combine(JupyterDirectory, "kernels");
            Directory.CreateDirectory(kernelspecs);
            var install = Run(["dotnet", "interactive", "jupyter", "install", "--path", kernelspecs], Root, Environment(), out var installExit);
            if (installExit != 0) throw new InvalidOperationException($"dotnet interactive jupyter install failed:\n{install}");

            clock.Restart();
            KernelLog = Run(KernelCommand(), Root, Environment(), out var kernelExit);
            KernelDuration = clock.Elapsed;
            KernelExitCode = kernelExit;
        }
        catch
        {
            Dispose();   // xunit does not dispose a fixture whose constructor threw
            throw;
        }
    }

    /// <summary>The copy of the working tree both hosts run in (notebooks/, src/, kernels/, data-templates/…).</summary>
    public string Root => Path.Combine(workspace, "repo");

    public string JupyterDirectory => Path.Combine(workspace, "jupyter");

    public string RunnerOutput => Path.Combine(workspace, "runner");

    public string KernelOutput => Path.Combine(workspace, "kernel");

    public IReadOnlyList<string> Notebooks { get; }

    public string RunnerLog { get; }

    public int RunnerExitCode { get; }

    public TimeSpan RunnerDuration { get; }

    public string KernelVersion { get; }

    public string KernelLog { get; }

    public int KernelExitCode { get; }

    public TimeSpan KernelDuration { get; }

    public JsonObject Executed(string outputDirectory, string notebook) =>
        (JsonObject)JsonNode.Parse(File.ReadAllText(Path.Combine(outputDirectory, notebook)))!;

    string[] RunnerCommand() =>
        ["dotnet", Path.Combine(AppContext.BaseDirectory, "ntrain-notebooks.dll"), Path.Combine(Root, "notebooks"), "--out", RunnerOutput];

    string[] KernelCommand()
    {
        var script = Path.Combine(RunnerWorkspace.RepositoryRoot, "tests", "NotebookTrainer.Tests", "RealKernel", "execute_in_kernel.py");
        return ["/usr/bin/python3", script, "--kernel", KernelName, "--out", KernelOutput, "--cell-timeout", ((int)CellTimeout.TotalSeconds).ToString(),
            .. Notebooks.Select(n => Path.Combine(Root, "notebooks", n))];
    }

    /// <summary>A Jupyter of our own: no kernelspec, config or runtime file of the machine is read or written.</summary>
    Dictionary<string, string> Environment() => new()
    {
        ["JUPYTER_PATH"] = JupyterDirectory,
        ["JUPYTER_DATA_DIR"] = JupyterDirectory,
        ["JUPYTER_CONFIG_DIR"] = Path.Combine(JupyterDirectory, "config"),
        ["JUPYTER_RUNTIME_DIR"] = Path.Combine(JupyterDirectory, "runtime"),
        ["DOTNET_INTERACTIVE_CLI_TELEMETRY_OPTOUT"] = "1",
        ["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1",
        ["DOTNET_NOLOGO"] = "1",
    };

    /// <summary>
    /// Runs a command to its end and returns stdout and stderr together. One that outlives <see cref="RunTimeout"/>
    /// is killed with everything it started (the kernel included).
    /// </summary>
    static string Run(IReadOnlyList<string> command, string workingDirectory, IReadOnlyDictionary<string, string> environment, out int exitCode)
    {
        var start = new ProcessStartInfo(command[0]) { WorkingDirectory = workingDirectory, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in command.Skip(1)) start.ArgumentList.Add(argument);
        foreach (var (name, value) in environment) start.Environment[name] = value;
        var output = new System.Text.StringBuilder();
        using var process = new Process { StartInfo = start };
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (output) output.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (output) output.AppendLine(e.Data); };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        if (!process.WaitForExit(RunTimeout))
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit();
            lock (output) output.AppendLine($"killed after {RunTimeout}: {string.Join(' ', command)}");
            exitCode = -1;
            return output.ToString();
        }
        process.WaitForExit();
        exitCode = process.ExitCode;
        lock (output) return output.ToString();
    }

    /// <summary>
    /// Tracked and untracked-but-not-ignored files, as a fresh clone with the current changes would have them
    /// (no bin/, obj/, artifacts/ or runs/).
    /// </summary>
    static void CopyWorkingTree(string repository, string destination)
    {
        var files = Run(["git", "-C", repository, "ls-files", "-z", "--cached", "--others", "--exclude-standard"], repository, new Dictionary<string, string>(), out var exitCode);
        if (exitCode != 0) throw new InvalidOperationException($"git ls-files failed in {repository}:\n{files}");
        foreach (var file in files.Split(['\0', '\n'], StringSplitOptions.RemoveEmptyEntries))
        {
            var source = Path.Combine(repository, file);
            if (!File.Exists(source)) continue;   // deleted in the working tree, not yet committed
            var target = Path.Combine(destination, file);
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(source, target);
        }
    }

    public void Dispose()
    {
        if (Directory.Exists(workspace)) Directory.Delete(workspace, recursive: true);
    }
}
