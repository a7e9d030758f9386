using System.Globalization;
using System.Text.Json;
using NotebookTrainer.Captions;
using NotebookTrainer.Curation;
using NotebookTrainer.Tagging;
using NotebookTrainer.World;

namespace NotebookTrainer.Cli.Commands;

/// <summary><c>ntrain tag | tagger | tags | curate</c>: parsing and printing; the work is in NotebookTrainer.Tagging and .Curation.</summary>
public static class TaggingCommands
{
    static readonly JsonSerializerOptions Json = new() { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static int Run(string command, string[] args)
    {
        try
        {
            return command switch
            {
                "tag" => Tag(args),
                "tagger" => Tagger(args),
                "tags" => Tags(args),
                "curate" => Curate(args),
                _ => throw new CliException($"unknown command '{command}'."),
            };
        }
        catch (Exception e) when (e is TaggerModelException or CurationLockedException or CurationConflictException or ArgumentException)
        {
            throw new CliException(e.Message);
        }
        catch (InvalidOperationException e) when (e.Message.StartsWith("Nothing to", StringComparison.Ordinal))
        {
            throw new CliException(e.Message);
        }
    }

    /// <summary>Exit 0 when every image was tagged, 1 when some were skipped as unreadable.</summary>
    static int Tag(string[] args)
    {
        var a = new CliArgs(args,
            ["model", "general-threshold", "character-threshold", "undesired", "always-first", "rating", "caption-extension", "batch-size", "workers"],
            ["keep-underscores", "character-first", "append", "recursive", "cpu", "dry-run", "json"]);
        var dir = a.Positional(0, "the image folder to tag");
        var rating = (a.Option("rating") ?? "off") switch
        {
            "off" => RatingTagPosition.Off,
            "first" => RatingTagPosition.First,
            "last" => RatingTagPosition.Last,
            var other => throw new CliException($"--rating must be off, first or last, not '{other}'."),
        };
        var options = new TaggerOptions
        {
            GeneralThreshold = Threshold(a, "general-threshold"),
            CharacterThreshold = Threshold(a, "character-threshold"),
            UndesiredTags = CaptionText.Parse(a.Option("undesired")),
            AlwaysFirstTags = CaptionText.Parse(a.Option("always-first")),
            RemoveUnderscore = !a.Flag("keep-underscores"),
            CharacterTagsFirst = a.Flag("character-first"),
            RatingTag = rating,
            Append = a.Flag("append"),
            CaptionExtension = a.Option("caption-extension") ?? ".txt",
            BatchSize = a.Int("batch-size", 8),
            PreprocessWorkers = a.Int("workers", 0),
            Recursive = a.Flag("recursive"),
            WriteCaptions = !a.Flag("dry-run"),
        };
        if (!options.CaptionExtension.StartsWith('.')) throw new CliException($"--caption-extension must start with a dot, e.g. .txt (got '{options.CaptionExtension}').");
        if (options.BatchSize < 1) throw new CliException("--batch-size must be at least 1.");

        using var model = WdTaggerModel.Load(a.Required("model"), preferGpu: !a.Flag("cpu"));
        Console.Error.WriteLine($"model {model.ModelDirectory}: input '{model.InputName}' {model.InputSide}x{model.InputSide}, {model.Tags.Count} tags, {model.ExecutionProvider}");
        var report = ImageTagger.TagFolder(model, dir, options, new ConsoleProgress(), Ntrain.Cancellation);
        if (a.Flag("json"))
        {
            Console.WriteLine(JsonSerializer.Serialize(new
            {
                model = report.ModelDirectory,
                provider = report.ExecutionProvider,
                seconds = report.Elapsed.TotalSeconds,
                images = report.Results.Select(r => new { image = r.ImagePath, caption = r.CaptionPath, tags = r.Caption }),
                skipped = report.Skipped.Select(s => new { image = s.ImagePath, reason = s.Reason }),
            }, Json));
        }
        else
        {
            if (a.Flag("dry-run"))
                foreach (var r in report.Results) Console.WriteLine($"{Path.GetFileName(r.ImagePath)}: {string.Join(options.Separator, r.Caption)}");
            foreach (var s in report.Skipped) Console.WriteLine($"skipped {s.ImagePath}: {s.Reason}");
            Console.WriteLine(report + (a.Flag("dry-run") ? " (dry run: no caption written)" : ""));
        }
        return report.Skipped.Count > 0 ? 1 : 0;
    }

    static float Threshold(CliArgs a, string name)
    {
        var v = a.Double(name, 0.35);
        if (v is < 0 or > 1) throw new CliException($"--{name} must be between 0 and 1, not {v.ToString(CultureInfo.InvariantCulture)}.");
        return (float)v;
    }

    static int Tagger(string[] args)
    {
        const string use = "use 'tagger world --out DIR' to train the judge of the generated world, or 'tagger evaluate --model DIR' to test a tagger on fresh scenes.";
        if (args.Length == 0) throw new CliException(use);
        return args[0] switch
        {
            "world" => TrainWorldTagger(args[1..]),
            "evaluate" => EvaluateWorldTagger(args[1..]),
            _ => throw new CliException($"unknown subcommand '{args[0]}': {use}"),
        };
    }

    static int TrainWorldTagger(string[] args)
    {
        var a = new CliArgs(args, ["out", "seed", "images", "steps", "test-images"], ["json"]);
        var defaults = new WorldTaggerOptions();
        var options = new WorldTaggerOptions
        {
            TrainImages = Positive(a, "images", defaults.TrainImages),
            Steps = Positive(a, "steps", defaults.Steps),
            TestImages = Positive(a, "test-images", defaults.TestImages),
        };
        var fit = WorldTagger.Train(a.Required("out"), a.Int("seed", 42), options, new ConsoleProgress(), Ntrain.Cancellation);
        if (a.Flag("json"))
            Console.WriteLine(JsonSerializer.Serialize(new
            {
                model = fit.ModelDirectory,
                seed = fit.Seed,
                trainImages = fit.Options.TrainImages,
                steps = fit.Options.Steps,
                renderSeconds = fit.RenderTime.TotalSeconds,
                trainSeconds = fit.TrainTime.TotalSeconds,
                finalLoss = fit.FinalLoss,
                modelBytes = fit.ModelBytes,
                test = AccuracyJson(fit.Test),
            }, Json));
        else Console.WriteLine(fit);
        return 0;
    }

    /// <summary>Exit 0 when every target figure (<see cref="WorldTaggerAccuracy.Targets"/>) is at least 95%, 1 otherwise.</summary>
    static int EvaluateWorldTagger(string[] args)
    {
        var a = new CliArgs(args, ["model", "count", "seed"], ["json"]);
        var accuracy = WorldTagger.Evaluate(a.Required("model"), Positive(a, "count", 1000), a.Int("seed", WorldTagger.TestSeed(42)), new ConsoleProgress(), Ntrain.Cancellation);
        Console.WriteLine(a.Flag("json") ? JsonSerializer.Serialize(AccuracyJson(accuracy), Json) : accuracy.ToString());
        return accuracy.WorstTarget >= 0.95 ? 0 : 1;
    }

    static object AccuracyJson(WorldTaggerAccuracy accuracy) => new
    {
        images = accuracy.Images,
        worstTarget = accuracy.WorstTarget,
        targets = accuracy.Targets.Select(t => new { name = t.Name, accuracy = t.Accuracy }),
        attributes = accuracy.Attributes.Select(x => new { attribute = x.Attribute, accuracy = x.Accuracy, correct = x.Correct }),
        values = accuracy.Values.Select(v => new
        {
            attribute = v.Attribute, value = v.Value, heldOut = v.HeldOut, images = v.Images, accuracy = Finite(v.Accuracy),
            precision = Finite(v.Precision), recall = Finite(v.Recall),
        }),
        tags = accuracy.Tags.Select(t => new { tag = t.Tag, precision = Finite(t.Precision), recall = Finite(t.Recall), truePositives = t.TruePositives, falsePositives = t.FalsePositives, falseNegatives = t.FalseNegatives }),
    };

    static double? Finite(double value) => double.IsNaN(value) ? null : value;

    static int Positive(CliArgs a, string name, int fallback)
    {
        var v = a.Int(name, fallback);
        if (v < 1) throw new CliException($"--{name} must be at least 1, not {v}.");
        return v;
    }

    static int Tags(string[] args)
    {
        if (args.Length == 0) throw new CliException("missing subcommand: use 'tags stats|edit|undo|redo|check <dir>'.");
        return args[0] switch
        {
            "stats" => Stats(args[1..]),
            "edit" => Edit(args[1..]),
            "undo" => UndoRedo(args[1..], undo: true),
            "redo" => UndoRedo(args[1..], undo: false),
            "check" => Check(args[1..]),
            _ => throw new CliException($"unknown subcommand '{args[0]}': use stats, edit, undo, redo or check."),
        };
    }

    /// <param name="readOnly">Dry runs and statistics: no lock and no journal recovery, so nothing in the folder is written.</param>
    static CurationSession Open(CliArgs a, string folder, bool readOnly = false)
    {
        var tagList = a.Option("tags-csv") is { } csv ? SelectedTags.Load(csv) : null;
        var session = CurationSession.Open(folder, a.Option("caption-extension") ?? ".txt", tagList, holder: "'ntrain tags'", readOnly: readOnly);
        if (session.Journal.Notice is { } notice) Console.Error.WriteLine($"warning: {notice}");
        return session;
    }

    static int Stats(string[] args)
    {
        var a = new CliArgs(args, ["caption-extension", "tags-csv"], ["json"]);
        using var session = Open(a, a.Positional(0, "the caption folder"), readOnly: true);
        var table = session.Frequencies();
        if (a.Flag("json"))
            Console.WriteLine(JsonSerializer.Serialize(new
            {
                images = table.ImageCount,
                tags = table.Rows.Select(r => new { tag = r.Tag, images = r.Images, fraction = r.Fraction, category = r.Category?.ToString().ToLowerInvariant() }),
            }, Json));
        else Console.WriteLine(table);
        return 0;
    }

    static int Edit(string[] args)
    {
        var a = new CliArgs(args,
            ["caption-extension", "tags-csv", "activation", "remove", "replace", "with", "merge", "into", "prune-below", "keep", "sort", "keep-first", "image", "add"],
            ["and", "replacement-first", "dedupe", "dry-run", "json"]);
        var folder = a.Positional(0, "the caption folder");
        var operations = Operations(a);
        if (operations.Count == 0)
            throw new CliException("no operation given: use --activation, --remove, --replace/--with, --merge/--into, --prune-below, --dedupe, --sort or --image with --add/--remove.");
        using var session = Open(a, folder, readOnly: a.Flag("dry-run"));
        var plans = new List<EditPlan>();
        foreach (var op in operations)
        {
            var plan = session.Preview(op);
            if (!a.Flag("dry-run")) session.Apply(plan);
            plans.Add(plan);
        }
        if (a.Flag("json"))
            Console.WriteLine(JsonSerializer.Serialize(new
            {
                dryRun = a.Flag("dry-run"),
                operations = plans.Select(p => new
                {
                    description = p.Description,
                    changes = p.Changes.Select(c => new { image = c.Image, caption = c.CaptionFile, removed = c.Removed, added = c.Added, after = c.After }),
                }),
            }, Json));
        else
        {
            foreach (var p in plans) Console.WriteLine(p);
            Console.WriteLine(a.Flag("dry-run") ? "dry run: nothing written." : "applied; 'ntrain tags undo' reverts the last operation.");
        }
        return 0;
    }

    /// <summary>The operations the options ask for, in a fixed order: per-image edit, remove, replace, merge, prune, dedupe, activation tag, sort.</summary>
    static List<TagOperation> Operations(CliArgs a)
    {
        var ops = new List<TagOperation>();
        var remove = CaptionText.Parse(a.Option("remove"));
        if (a.Option("image") is { } image)
            ops.Add(new EditImageTags(image, CaptionText.Parse(a.Option("add")), remove));
        else
        {
            if (a.Option("add") is not null) throw new CliException("--add needs --image NAME (the image whose caption gets the tags).");
            if (remove.Count > 0) ops.Add(new RemoveTags(remove));
        }
        if (a.Option("replace") is { } search)
            ops.Add(new SearchReplace(CaptionText.Parse(search), CaptionText.Parse(a.Required("with")), a.Flag("and") ? SearchMode.And : SearchMode.Or, a.Flag("replacement-first")));
        else if (a.Option("with") is not null) throw new CliException("--with needs --replace TAGS (the tags to look for).");
        if (a.Option("merge") is { } synonyms) ops.Add(new MergeTags(CaptionText.Parse(synonyms), a.Required("into")));
        else if (a.Option("into") is not null) throw new CliException("--into needs --merge TAGS (the synonyms to merge).");
        if (a.Option("prune-below") is not null)
        {
            var min = a.Int("prune-below", 0);
            if (min < 1) throw new CliException("--prune-below must be at least 1 (tags on fewer images than this are removed).");
            ops.Add(new PruneRareTags(min, CaptionText.Parse(a.Option("keep"))));
        }
        if (a.Flag("dedupe")) ops.Add(new RemoveDuplicateTags());
        if (a.Option("activation") is { } activation) ops.Add(new AddActivationTag(activation));
        if (a.Option("sort") is { } sort)
            ops.Add(new SortTags(sort switch
            {
                "alpha" or "alphabetical" => TagSortOrder.Alphabetical,
                "frequency" => TagSortOrder.Frequency,
                _ => throw new CliException($"--sort must be alpha or frequency, not '{sort}'."),
            }, a.Int("keep-first", 1)));
        return ops;
    }

    static int UndoRedo(string[] args, bool undo)
    {
        var a = new CliArgs(args, ["caption-extension"], ["json"]);
        using var session = Open(a, a.Positional(0, "the caption folder"));
        var entry = undo ? session.Undo() : session.Redo();
        if (a.Flag("json"))
            Console.WriteLine(JsonSerializer.Serialize(new { action = undo ? "undo" : "redo", description = entry.Description, files = entry.Changes.Select(c => c.File) }, Json));
        else
            Console.WriteLine($"{(undo ? "undid" : "redid")} '{entry.Description}' ({entry.Changes.Count} caption(s)).");
        return 0;
    }

    /// <summary>Exit 0 when no problem was found, 1 otherwise.</summary>
    static int Check(string[] args)
    {
        var a = new CliArgs(args, ["resolution", "near-distance"], ["recursive", "trash-duplicates", "json"]);
        var folder = a.Positional(0, "the image folder");
        var report = ImageChecks.Run(folder, new ImageCheckOptions
        {
            TrainingResolution = a.Int("resolution", 512),
            NearDuplicateDistance = a.Int("near-distance", 8),
            Recursive = a.Flag("recursive"),
        }, new ConsoleProgress(), Ntrain.Cancellation);
        TrashBatch? trashed = a.Flag("trash-duplicates") && report.RedundantCopies.Count > 0 ? Trash.Move(folder, report.RedundantCopies) : null;
        if (a.Flag("json"))
        {
            static IEnumerable<string> Paths(IEnumerable<CheckedImage> images) => images.Select(i => i.Path);
            Console.WriteLine(JsonSerializer.Serialize(new
            {
                images = report.Images.Count,
                exactDuplicates = report.ExactDuplicates.Select(Paths),
                nearDuplicates = report.NearDuplicates.Select(Paths),
                tooSmall = Paths(report.TooSmall),
                veryLarge = Paths(report.VeryLarge),
                transparent = Paths(report.Transparent),
                unreadable = report.Unreadable.Select(u => new { image = u.Path, reason = u.Reason }),
                trash = trashed?.Directory,
            }, Json));
        }
        else
        {
            Console.WriteLine(report);
            if (trashed is not null) Console.WriteLine($"moved {trashed.Files.Count} file(s) to {trashed.Directory} (restore by moving them back).");
        }
        var problems = report.ExactDuplicates.Count + report.NearDuplicates.Count + report.TooSmall.Count + report.Unreadable.Count;
        return problems > 0 ? 1 : 0;
    }

    static int Curate(string[] args)
    {
        var a = new CliArgs(args, ["caption-extension", "tags-csv"], []);
        var folder = a.Positional(0, "the caption folder");
        var tagList = a.Option("tags-csv") is { } csv ? SelectedTags.Load(csv) : null;
        using var server = PruningServer.Start(folder, a.Option("caption-extension") ?? ".txt", tagList);
        Console.WriteLine($"tag pruning page for {server.Folder}:");
        Console.WriteLine(server.Url);
        Console.WriteLine("Ctrl-C stops it.");
        try { server.WaitForShutdownAsync(Ntrain.Cancellation).GetAwaiter().GetResult(); }
        catch (OperationCanceledException) { }
        server.StopAsync().GetAwaiter().GetResult();
        Console.WriteLine("stopped.");
        return 0;
    }
}
