namespace NotebookTrainer.Cli;

public static class Ntrain
{
    const string Usage = """
        ntrain — kohya-compatible LoRA training from .NET

        usage: ntrain <command> [args]

          version                      library, libtorch and device information
          model inspect <path> [--json] [--config DIR]
                                       format, architecture, dtypes, parameters, missing keys and hashes of a
                                       checkpoint (.safetensors, .ckpt/.pt, or a diffusers folder)
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
            case "model": return Commands.ModelCommands.Run(args[1..]);
            default:
                Console.Error.WriteLine($"ntrain: unknown command '{args[0]}'. Run 'ntrain --help' for the list.");
                return 2;
        }
    }
}
