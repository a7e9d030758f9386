namespace NotebookTrainer.Cli;

public static class Ntrain
{
    const string Usage = """
        ntrain — kohya-compatible LoRA training from .NET

        usage: ntrain <command> [args]

          version                      library, libtorch and device information
          dataset inspect <config|folder> [--json]   images, captions, buckets, steps per epoch, problems
          dataset sample --out DIR [--seed N]        generate the built-in sample dataset
        """;

    public static int Run(string[] args)
    {
        if (args.Length == 0 || args[0] is "-h" or "--help" or "help")
        {
            Console.WriteLine(Usage);
            return args.Length == 0 ? 1 : 0;
        }
        switch (args[0])
        {
            case "version":
                Console.WriteLine($"NotebookTrainer {typeof(Runtime.TorchRuntime).Assembly.GetName().Version}, libtorch {Runtime.TorchRuntime.LibTorchVersion}, device {Runtime.TorchRuntime.DefaultDevice}");
                return 0;
            case "dataset": return Commands.DatasetCommands.Run(args);
            default:
                Console.Error.WriteLine($"ntrain: unknown command '{args[0]}'. Run 'ntrain --help' for the list.");
                return 2;
        }
    }
}
