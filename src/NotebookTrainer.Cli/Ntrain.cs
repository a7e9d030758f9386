namespace NotebookTrainer.Cli;

public static class Ntrain
{
    const string Usage = """
        ntrain — kohya-compatible LoRA training from .NET

        usage: ntrain <command> [args]

          version                                  library, libtorch and device information
          env                                      .NET, OS, libtorch backend, CPU/GPU, memory, disk; what is missing and the fix
          download <catalog-name | url> --out PATH [--sha256 HEX] [--catalog models.toml]
                                                   download a model (resume, sha256 check, HF_TOKEN / CIVITAI_TOKEN)
          acquire zip <file.zip> --out DIR         unpack a dataset zip safely
          acquire urls <links.txt> --out DIR       download a list of image links (parallel, polite, deduplicated)
          acquire booru <danbooru|gelbooru> <base-url> --tags "a b -c" --out DIR [--limit N] [--rating g,s]
                                                   download a booru search, tags become the captions
          dataset inspect <config.toml|.json | folder> [--json]
                                                   images, captions, buckets, steps per epoch and problems
          dataset sample --out DIR [--seed N] [--count N]
                                                   generate the built-in sample dataset
          model inspect <path> [--json] [--config DIR]
                                                   format, architecture, dtypes, parameters, missing keys and hashes of a
                                                   checkpoint (.safetensors, .ckpt/.pt, or a diffusers folder)
          lora inspect <file.safetensors> [--json] [--top-tags N]
                                                   LoRA metadata, tag frequency, modules per block, rank/alpha, ‖ΔW‖
          lora diff <a.safetensors> <b.safetensors> [--json]
                                                   modules only in one file, rank/alpha differences, norm ratios
          sample prompts <prompts.txt> [--sampler NAME] [--seed N] [--steps N]
                                                   check a kohya sample-prompts file: size, steps, CFG, sampler, seed
          log <run-dir | loss.csv>                 per-epoch mean loss of a training run
        """;

    /// <summary>Cancelled by Ctrl-C: long commands finish their current unit of work and stop cleanly.</summary>
    public static CancellationToken Cancellation => cancellation.Token;
    static readonly CancellationTokenSource cancellation = new();

    public static int Run(string[] args)
    {
        if (args.Length == 0 || args[0] is "-h" or "--help" or "help")
        {
            Console.WriteLine(Usage);
            return args.Length == 0 ? 1 : 0;
        }
        Console.CancelKeyPress += (_, e) =>
        {
            if (cancellation.IsCancellationRequested) return;   // a second Ctrl-C kills the process
            e.Cancel = true;
            Console.Error.WriteLine("\nntrain: stopping after the current step (Ctrl-C again to kill)…");
            cancellation.Cancel();
        };
        var rest = args[1..];
        try
        {
            switch (args[0])
            {
                case "version":
                    Console.WriteLine($"NotebookTrainer {typeof(Runtime.TorchRuntime).Assembly.GetName().Version}, libtorch {Runtime.TorchRuntime.LibTorchVersion}, device {Runtime.TorchRuntime.DefaultDevice}");
                    return 0;
                case "env": return Commands.EnvironmentCommands.Run(rest);
                case "download": return Commands.AcquisitionCommands.Download(rest);
                case "acquire": return Commands.AcquisitionCommands.Acquire(rest);
                case "dataset": return Commands.DatasetCommands.Run(rest);
                case "model": return Commands.ModelCommands.Run(rest);
                case "lora" or "sample" or "log": return Commands.SamplingCommands.Run(args[0], rest);
                default:
                    Console.Error.WriteLine($"ntrain: unknown command '{args[0]}'. Run 'ntrain --help' for the list.");
                    return 2;
            }
        }
        catch (CliException e)
        {
            Console.Error.WriteLine($"ntrain {args[0]}: {e.Message}");
            return 2;
        }
        catch (OperationCanceledException)
        {
            Console.Error.WriteLine($"ntrain {args[0]}: cancelled.");
            return 130;
        }
        catch (Exception e) when (e is InvalidDataException or FileNotFoundException or DirectoryNotFoundException or Downloads.DownloadException or HttpRequestException or UnauthorizedAccessException)
        {
            Console.Error.WriteLine($"ntrain {args[0]}: {e.Message}");
            return 2;
        }
    }
}
