using System.CommandLine;
using NotebookTrainer.Runtime;

namespace NotebookTrainer.Cli.Commands;

/// <summary><c>ntrain version</c> and <c>ntrain env</c>: what this machine offers for training and what is missing (as notebook 00-install shows it).</summary>
public static class EnvironmentCommands
{
    public static Command Version()
    {
        var command = new Command("version", "Library, libtorch and device information");
        command.SetAction(_ => Console.WriteLine($"NotebookTrainer {typeof(TorchRuntime).Assembly.GetName().Version}, libtorch {TorchRuntime.LibTorchVersion}, device {TorchRuntime.DefaultDevice}"));
        return command;
    }

    public static Command Env()
    {
        var command = new Command("env", ".NET, OS, libtorch backend, CPU/GPU, memory, disk; what is missing and the fix");
        command.SetAction(_ => Console.WriteLine(EnvironmentReport.Collect()));
        return command;
    }
}
