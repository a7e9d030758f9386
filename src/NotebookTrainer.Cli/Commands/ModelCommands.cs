using NotebookTrainer.Checkpoints;
using NotebookTrainer.SafeTensors;
using NotebookTrainer.Tokenizers;

namespace NotebookTrainer.Cli.Commands;

/// <summary><c>ntrain model …</c>: looking at base-model files.</summary>
public static class ModelCommands
{
    public static int Run(string[] args)
    {
        if (args.Length == 0 || args[0] != "inspect")
            return Fail("usage: ntrain model inspect <path> [--json] [--config DIR]");
        string? path = null, config = null;
        var json = false;
        for (var i = 1; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--json": json = true; break;
                case "--config" when i + 1 < args.Length: config = args[++i]; break;
                case "--config": return Fail("--config needs a folder: a diffusers model folder whose unet/, vae/, text_encoder/ config.json describe the checkpoint.");
                case var a when a.StartsWith("--", StringComparison.Ordinal): return Fail($"unknown option '{a}' for 'model inspect' (known: --json, --config DIR).");
                case var a when path == null: path = a; break;
                default: return Fail($"unexpected argument '{args[i]}': give one checkpoint path.");
            }
        }
        if (path == null) return Fail("model inspect needs a checkpoint path (file or diffusers folder).");
        try
        {
            var inspection = ModelInspection.Inspect(path, config);
            Console.Write(json ? inspection.ToJson() + Environment.NewLine : inspection.ToText());
            return 0;
        }
        catch (Exception e) when (e is SafeTensorsFormatException or CheckpointFormatException or TokenizerFormatException or FileNotFoundException or UnauthorizedAccessException or IOException)
        {
            return Fail(e.Message);
        }
    }

    static int Fail(string message)
    {
        Console.Error.WriteLine($"ntrain model: {message}");
        return 2;
    }
}
