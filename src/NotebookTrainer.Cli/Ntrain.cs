using System.CommandLine;
using System.CommandLine.Invocation;
using System.CommandLine.Parsing;
using NotebookTrainer.Cli.Commands;
using NotebookTrainer.Training;

namespace NotebookTrainer.Cli;

public static class Ntrain
{
    /// <summary>Cancelled by Ctrl-C: long commands finish their current unit of work and stop cleanly.</summary>
    public static CancellationToken Cancellation => cancellation.Token;
    static readonly CancellationTokenSource cancellation = new();

    /// <summary>Errors whose message already names the file, key or value and the fix: printed as they are, exit code 2.</summary>
    static bool IsUserFacing(Exception e) => e is CliException or InvalidDataException or FileNotFoundException or DirectoryNotFoundException
        or Downloads.DownloadException or HttpRequestException or UnauthorizedAccessException
        or Checkpoints.CheckpointFormatException or SafeTensors.SafeTensorsFormatException or ModelConfigs.ModelConfigException
        or Models.ModelWeightsException or Models.FixtureException or Tokenizers.TokenizerFormatException
        or Training.TrainingException or Configuration.ConfigException
        or Tagging.TaggerModelException or Curation.CurationLockedException or Curation.CurationConflictException
        or IO.UntrustedFileException;

    /// <summary>Every command; each Commands/*.cs file builds its own, options next to the action that reads them.</summary>
    static RootCommand Commands()
    {
        var root = new RootCommand("ntrain — kohya-compatible LoRA training from .NET")
        {
            EnvironmentCommands.Version(),
            EnvironmentCommands.Env(),
            AcquisitionCommands.Download(),
            AcquisitionCommands.Acquire(),
            DatasetCommands.Dataset(),
            MetadataCommands.Metadata(),
            ModelCommands.Model(),
            TaggingCommands.Tag(),
            TaggingCommands.Tagger(),
            TaggingCommands.Tags(),
            TaggingCommands.Curate(),
            TrainCommands.Train(TrainingMethod.Network),
            TrainCommands.Train(TrainingMethod.FineTune),
            TrainCommands.Train(TrainingMethod.DreamBooth),
            TrainCommands.Train(TrainingMethod.TextualInversion),
            PretrainCommands.Pretrain(),
            AccuracyCommands.Accuracy(),
            SamplingCommands.Lora(),
            SamplingCommands.Sample(),
            SamplingCommands.Log(),
            SamplingCommands.Judge(),
        };
        root.Options.Remove(root.Options.OfType<VersionOption>().Single());   // 'ntrain version' tells it, with libtorch and the device
        return root;
    }

    public static int Run(string[] args)
    {
        var commands = Commands();
        if (args is [] or ["help"])
        {
            commands.Parse("--help").Invoke();
            return args.Length == 0 ? 1 : 0;
        }
        // Values are taken literally: '@_@' is a booru tag, not a response file, and there are no one-letter flags to bundle.
        var parse = commands.Parse(args, new ParserConfiguration { ResponseFileTokenReplacer = null, EnablePosixBundling = false });
        var command = string.Join(' ', CommandPath(parse.CommandResult).Prepend("ntrain"));
        if (parse.Action is ParseErrorAction)
        {
            Console.Error.WriteLine($"{command}: {UsageError(parse, command)}");
            return 2;
        }
        // S.CL cancels only asynchronous actions on Ctrl-C; the commands are synchronous and take Cancellation instead.
        Console.CancelKeyPress += (_, e) =>
        {
            if (cancellation.IsCancellationRequested) return;   // a second Ctrl-C kills the process
            e.Cancel = true;
            Console.Error.WriteLine("\nntrain: stopping after the current step (Ctrl-C again to kill)…");
            cancellation.Cancel();
        };
        try
        {
            return parse.Invoke(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
        }
        catch (OperationCanceledException)
        {
            Console.Error.WriteLine($"{command}: cancelled.");
            return 130;
        }
        catch (Exception e) when (IsUserFacing(e))
        {
            Console.Error.WriteLine($"{command}: {e.Message}");
            return 2;
        }
        catch (Exception e)
        {
            Console.Error.WriteLine($"{command}: {InternalError(e)}");
            return 70;
        }
    }

    /// <summary>
    /// A bug or a native failure, in one line: what failed, where the full trace went, and that the same command
    /// resumes a run that saved its state.
    /// </summary>
    public static string InternalError(Exception e)
    {
        var firstLine = e.Message.Split('\n', 2)[0].Trim();
        var trace = Path.Combine(Path.GetTempPath(), $"ntrain-error-{DateTime.UtcNow:yyyyMMdd-HHmmss}.txt");
        try
        {
            File.WriteAllText(trace, e.ToString());
        }
        catch (IOException)
        {
            trace = "(could not be written)";
        }
        return $"internal error ({e.GetType().Name}): {firstLine} — full trace: {trace}. A run that saved its state " +
               "(training, pretraining) resumes when you run the same command again; please report the trace.";
    }

    /// <summary>The names of the command and its parents below the root, e.g. "tags", "edit".</summary>
    static IEnumerable<string> CommandPath(CommandResult result) =>
        result.Parent is CommandResult parent ? CommandPath(parent).Append(result.Command.Name) : [];

    /// <summary>
    /// One parse error on one line with its fix: a misspelt word first, with S.CL's "did you mean"; a missing argument by
    /// name; else the first error and where the help is.
    /// </summary>
    static string UsageError(ParseResult parse, string command)
    {
        if (parse.UnmatchedTokens.Count > 0)
        {
            var token = parse.UnmatchedTokens[0];
            var error = (parse.Errors.FirstOrDefault(e => e.Message.Contains($"'{token}'", StringComparison.Ordinal)) ?? parse.Errors[0]).Message;
            return TypoCorrections(parse, token) is { Count: > 0 } suggestions
                ? $"{error} Did you mean {string.Join(" or ", suggestions)}?"
                : $"{error} See '{command} --help'.";
        }
        return parse.Errors[0].SymbolResult is ArgumentResult { Tokens.Count: 0, Parent: CommandResult, Argument: var argument }
            ? $"missing <{argument.Name}>: {argument.Description}. See '{command} --help'."
            : $"{parse.Errors[0].Message} See '{command} --help'.";
    }

    /// <summary>The names S.CL's parse-error action suggests for <paramref name="token"/>: the lines after its "was not matched" line.</summary>
    static List<string> TypoCorrections(ParseResult parse, string token)
    {
        var printed = new StringWriter();
        ((ParseErrorAction)parse.Action!).ShowHelp = false;
        parse.Invoke(new InvocationConfiguration { Output = printed, Error = TextWriter.Null });
        var names = parse.CommandResult.Command.Children
            .SelectMany(s => s switch { Option o => o.Aliases.Prepend(o.Name), Command c => c.Aliases.Prepend(c.Name), _ => [] })
            .ToHashSet();
        return printed.ToString().Split(Environment.NewLine)
            .SkipWhile(line => !line.Contains($"'{token}'", StringComparison.Ordinal)).Skip(1)
            .TakeWhile(names.Contains)
            .ToList();
    }
}

/// <summary>A usage mistake found by a command (a missing folder, a value out of range): printed as one line, exit code 2.</summary>
public sealed class CliException(string message) : Exception(message);
