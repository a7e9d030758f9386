using System.CommandLine;
using System.Text.Json;
using NotebookTrainer.Captions;
using NotebookTrainer.Curation;
using NotebookTrainer.Tagging;
using NotebookTrainer.World;

using static NotebookTrainer.Cli.CliOptions;

namespace NotebookTrainer.Cli.Commands;

/// <summary><c>ntrain tag | tagger | tags | curate</c>: options and printing; the work is in NotebookTrainer.Tagging and .Curation.</summary>
public static class TaggingCommands
{
    static readonly JsonSerializerOptions Json = new() { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>The library's ArgumentException (a bad option value) and "Nothing to undo/redo" are usage errors.</summary>
    static Func<ParseResult, int> UsageErrors(Func<ParseResult, int> action) => parse =>
    {
        try { return action(parse); }
        catch (ArgumentException e) { throw new CliException(e.Message); }
        catch (InvalidOperationException e) when (e.Message.StartsWith("Nothing to", StringComparison.Ordinal)) { throw new CliException(e.Message); }
    };

    static Option<string> CaptionExtension() => new("--caption-extension") { Description = "caption file extension", HelpName = "EXT", DefaultValueFactory = _ => ".txt" };
    static Option<string?> TagsCsv() => new("--tags-csv") { Description = "a tagger's selected_tags.csv, for the tags' categories", HelpName = "FILE" };

    /// <summary>Exit 0 when every image was tagged, 1 when some were skipped as unreadable.</summary>
    public static Command Tag()
    {
        var dir = new Argument<string>("dir") { Description = "the image folder to tag" };
        var model = new Option<string>("--model") { Description = "the tagger folder (model.onnx + selected_tags.csv)", HelpName = "DIR", Required = true };
        var generalThreshold = NumberOptions.Decimal("--general-threshold", 0.35, "general tags' score to keep", min: 0, max: 1);
        var characterThreshold = NumberOptions.Decimal("--character-threshold", 0.35, "character tags' score to keep", min: 0, max: 1);
        var undesired = new Option<string?>("--undesired") { Description = "tags never written", HelpName = "\"a, b\"" };
        var alwaysFirst = new Option<string?>("--always-first") { Description = "tags put first when present", HelpName = "\"1girl, 1boy\"" };
        var rating = new Option<string>("--rating") { Description = "where the rating tag goes: off, first or last", HelpName = "off|first|last", DefaultValueFactory = _ => "off" };
        var keepUnderscores = Flag("--keep-underscores", "keep tags' underscores");
        var characterFirst = Flag("--character-first", "character tags before general ones");
        var append = Flag("--append", "add to existing captions");
        var captionExtension = CaptionExtension();
        var batchSize = NumberOptions.Whole("--batch-size", 8, "images per model run", min: 1);
        var workers = NumberOptions.Whole("--workers", 0, "image decoding threads (0: one per core)");
        var recursive = Flag("--recursive", "include sub-folders");
        var cpu = Flag("--cpu", "run on the CPU even with a GPU");
        var dryRun = Flag("--dry-run", "print the captions, write none");
        var json = Json();
        var command = new Command("tag", "WD14 tagging (model.onnx + selected_tags.csv); exit 1 if images were skipped")
        {
            dir, model, generalThreshold, characterThreshold, undesired, alwaysFirst, rating, characterFirst, keepUnderscores, append,
            captionExtension, batchSize, workers, recursive, cpu, dryRun, json,
        };
        command.SetAction(UsageErrors(parse =>
        {
            var options = new TaggerOptions
            {
                GeneralThreshold = (float)parse.GetValue(generalThreshold),
                CharacterThreshold = (float)parse.GetValue(characterThreshold),
                UndesiredTags = CaptionText.Parse(parse.GetValue(undesired)),
                AlwaysFirstTags = CaptionText.Parse(parse.GetValue(alwaysFirst)),
                RemoveUnderscore = !parse.GetValue(keepUnderscores),
                CharacterTagsFirst = parse.GetValue(characterFirst),
                RatingTag = parse.GetRequiredValue(rating) switch
                {
                    "off" => RatingTagPosition.Off,
                    "first" => RatingTagPosition.First,
                    "last" => RatingTagPosition.Last,
                    var other => throw new CliException($"--rating must be off, first or last, not '{other}'."),
                },
                Append = parse.GetValue(append),
                CaptionExtension = parse.GetRequiredValue(captionExtension),
                BatchSize = parse.GetValue(batchSize),
                PreprocessWorkers = parse.GetValue(workers),
                Recursive = parse.GetValue(recursive),
                WriteCaptions = !parse.GetValue(dryRun),
            };
            if (!options.CaptionExtension.StartsWith('.')) throw new CliException($"--caption-extension must start with a dot, e.g. .txt (got '{options.CaptionExtension}').");

            using var tagger = WdTaggerModel.Load(parse.GetRequiredValue(model), preferGpu: !parse.GetValue(cpu));
            Console.Error.WriteLine($"model {tagger.ModelDirectory}: input '{tagger.InputName}' {tagger.InputSide}x{tagger.InputSide}, {tagger.Tags.Count} tags, {tagger.ExecutionProvider}");
            var report = ImageTagger.TagFolder(tagger, parse.GetRequiredValue(dir), options, new ConsoleProgress(), Ntrain.Cancellation);
            if (parse.GetValue(json))
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
                if (parse.GetValue(dryRun))
                    foreach (var r in report.Results) Console.WriteLine($"{Path.GetFileName(r.ImagePath)}: {string.Join(options.Separator, r.Caption)}");
                foreach (var s in report.Skipped) Console.WriteLine($"skipped {s.ImagePath}: {s.Reason}");
                Console.WriteLine(report + (parse.GetValue(dryRun) ? " (dry run: no caption written)" : ""));
            }
            return report.Skipped.Count > 0 ? 1 : 0;
        }));
        return command;
    }

    public static Command Tagger() => new("tagger", "Train the generated world's judge tagger, or test a tagger on fresh world scenes") { TrainWorldTagger(), EvaluateWorldTagger() };

    static Command TrainWorldTagger()
    {
        var defaults = new WorldTaggerOptions();
        var output = new Option<string>("--out") { Description = "the tagger folder to write", HelpName = "DIR", Required = true };
        var seed = NumberOptions.Whole("--seed", 42, "random seed");
        var images = NumberOptions.Whole("--images", defaults.TrainImages, "training scenes", min: 1);
        var steps = NumberOptions.Whole("--steps", defaults.Steps, "training steps", min: 1);
        var testImages = NumberOptions.Whole("--test-images", defaults.TestImages, "held-back test scenes", min: 1);
        var json = Json();
        var command = new Command("world", "Train the judge of the generated world (WD14-signature ONNX tagger)") { output, seed, images, steps, testImages, json };
        command.SetAction(UsageErrors(parse =>
        {
            var options = new WorldTaggerOptions { TrainImages = parse.GetValue(images), Steps = parse.GetValue(steps), TestImages = parse.GetValue(testImages) };
            var fit = WorldTagger.Train(parse.GetRequiredValue(output), parse.GetValue(seed), options, new ConsoleProgress(), Ntrain.Cancellation);
            if (parse.GetValue(json))
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
        }));
        return command;
    }

    /// <summary>Exit 0 when every target figure (<see cref="WorldTaggerAccuracy.Targets"/>) is at least 95%, 1 otherwise.</summary>
    static Command EvaluateWorldTagger()
    {
        var model = new Option<string>("--model") { Description = "the tagger folder", HelpName = "DIR", Required = true };
        var count = NumberOptions.Whole("--count", 1000, "fresh scenes to judge", min: 1);
        var seed = NumberOptions.Whole("--seed", WorldTagger.TestSeed(42), "the scenes' seed");
        var json = Json();
        var command = new Command("evaluate", "Per-attribute accuracy of a tagger on fresh world scenes; exit 1 below 95%") { model, count, seed, json };
        command.SetAction(UsageErrors(parse =>
        {
            var accuracy = WorldTagger.Evaluate(parse.GetRequiredValue(model), parse.GetValue(count), parse.GetValue(seed), new ConsoleProgress(), Ntrain.Cancellation);
            Console.WriteLine(parse.GetValue(json) ? JsonSerializer.Serialize(AccuracyJson(accuracy), Json) : accuracy.ToString());
            return accuracy.WorstTarget >= 0.95 ? 0 : 1;
        }));
        return command;
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

    public static Command Tags() => new("tags", "Caption statistics, edits through the undo journal, and image checks")
    {
        Stats(), Edit(), UndoRedo(undo: true), UndoRedo(undo: false), Check(),
    };

    static Argument<string> CaptionFolder() => new("dir") { Description = "the caption folder" };

    /// <param name="readOnly">Dry runs and statistics: no lock and no journal recovery, so nothing in the folder is written.</param>
    static CurationSession Open(string folder, string captionExtension, string? tagsCsv, bool readOnly = false)
    {
        var tagList = tagsCsv is null ? null : SelectedTags.Load(tagsCsv);
        var session = CurationSession.Open(folder, captionExtension, tagList, holder: "'ntrain tags'", readOnly: readOnly);
        if (session.Journal.Notice is { } notice) Console.Error.WriteLine($"warning: {notice}");
        return session;
    }

    static Command Stats()
    {
        var dir = CaptionFolder();
        var captionExtension = CaptionExtension();
        var tagsCsv = TagsCsv();
        var json = Json();
        var command = new Command("stats", "Tag frequency table (count, % of images, category)") { dir, captionExtension, tagsCsv, json };
        command.SetAction(UsageErrors(parse =>
        {
            using var session = Open(parse.GetRequiredValue(dir), parse.GetRequiredValue(captionExtension), parse.GetValue(tagsCsv), readOnly: true);
            var table = session.Frequencies();
            if (parse.GetValue(json))
                Console.WriteLine(JsonSerializer.Serialize(new
                {
                    images = table.ImageCount,
                    tags = table.Rows.Select(r => new { tag = r.Tag, images = r.Images, fraction = r.Fraction, category = r.Category?.ToString().ToLowerInvariant() }),
                }, Json));
            else Console.WriteLine(table);
            return 0;
        }));
        return command;
    }

    static Command Edit()
    {
        var dir = CaptionFolder();
        var captionExtension = CaptionExtension();
        var tagsCsv = TagsCsv();
        var activation = new Option<string?>("--activation") { Description = "put this tag first in every caption", HelpName = "TAG" };
        var remove = new Option<string?>("--remove") { Description = "remove these tags (with --image: from that image only)", HelpName = "\"a, b\"" };
        var replace = new Option<string?>("--replace") { Description = "tags to look for, replaced by --with", HelpName = "\"a, b\"" };
        var with = new Option<string?>("--with") { Description = "the replacement tags", HelpName = "\"c\"" };
        var and = Flag("--and", "replace only where all --replace tags are present");
        var replacementFirst = Flag("--replacement-first", "put the replacement first in the caption");
        var merge = new Option<string?>("--merge") { Description = "synonyms merged into --into", HelpName = "\"a, b\"" };
        var into = new Option<string?>("--into") { Description = "the tag the synonyms become", HelpName = "TAG" };
        var pruneBelow = NumberOptions.OptionalWhole("--prune-below", "remove tags on fewer images than N", min: 1);
        var keep = new Option<string?>("--keep") { Description = "tags --prune-below keeps", HelpName = "\"x\"" };
        var dedupe = Flag("--dedupe", "remove repeated tags");
        var sort = new Option<string?>("--sort") { Description = "sort tags: alpha or frequency", HelpName = "alpha|frequency" };
        var keepFirst = NumberOptions.Whole("--keep-first", 1, "tags --sort leaves in place");
        var image = new Option<string?>("--image") { Description = "edit one image's caption with --add/--remove", HelpName = "NAME" };
        var add = new Option<string?>("--add") { Description = "tags --image gets", HelpName = "\"a\"" };
        var dryRun = Flag("--dry-run", "show the changes, write nothing");
        var json = Json();
        var command = new Command("edit", "Curate captions through the undo journal (.ntrain/tag-journal.log)")
        {
            dir, captionExtension, tagsCsv, activation, remove, replace, with, and, replacementFirst, merge, into, pruneBelow, keep, dedupe,
            sort, keepFirst, image, add, dryRun, json,
        };
        command.SetAction(UsageErrors(parse =>
        {
            var operations = Operations(parse);
            if (operations.Count == 0)
                throw new CliException("no operation given: use --activation, --remove, --replace/--with, --merge/--into, --prune-below, --dedupe, --sort or --image with --add/--remove.");
            var dry = parse.GetValue(dryRun);
            using var session = Open(parse.GetRequiredValue(dir), parse.GetRequiredValue(captionExtension), parse.GetValue(tagsCsv), readOnly: dry);
            var plans = new List<EditPlan>();
            foreach (var op in operations)
            {
                var plan = session.Preview(op);
                if (!dry) session.Apply(plan);
                plans.Add(plan);
            }
            if (parse.GetValue(json))
                Console.WriteLine(JsonSerializer.Serialize(new
                {
                    dryRun = dry,
                    operations = plans.Select(p => new
                    {
                        description = p.Description,
                        changes = p.Changes.Select(c => new { image = c.Image, caption = c.CaptionFile, removed = c.Removed, added = c.Added, after = c.After }),
                    }),
                }, Json));
            else
            {
                foreach (var p in plans) Console.WriteLine(p);
                Console.WriteLine(dry ? "dry run: nothing written." : "applied; 'ntrain tags undo' reverts the last operation.");
            }
            return 0;
        }));
        return command;

        // The operations the options ask for, in a fixed order: per-image edit, remove, replace, merge, prune, dedupe, activation tag, sort.
        List<TagOperation> Operations(ParseResult parse)
        {
            var ops = new List<TagOperation>();
            var removed = CaptionText.Parse(parse.GetValue(remove));
            if (parse.GetValue(image) is { } name)
                ops.Add(new EditImageTags(name, CaptionText.Parse(parse.GetValue(add)), removed));
            else
            {
                if (parse.GetValue(add) is not null) throw new CliException("--add needs --image NAME (the image whose caption gets the tags).");
                if (removed.Count > 0) ops.Add(new RemoveTags(removed));
            }
            if (parse.GetValue(replace) is { } search)
                ops.Add(new SearchReplace(CaptionText.Parse(search), CaptionText.Parse(parse.GetValue(with) ?? throw new CliException("--replace needs --with TAGS (the replacement).")),
                    parse.GetValue(and) ? SearchMode.And : SearchMode.Or, parse.GetValue(replacementFirst)));
            else if (parse.GetValue(with) is not null) throw new CliException("--with needs --replace TAGS (the tags to look for).");
            if (parse.GetValue(merge) is { } synonyms)
                ops.Add(new MergeTags(CaptionText.Parse(synonyms), parse.GetValue(into) ?? throw new CliException("--merge needs --into TAG (the tag the synonyms become).")));
            else if (parse.GetValue(into) is not null) throw new CliException("--into needs --merge TAGS (the synonyms to merge).");
            if (parse.GetValue(pruneBelow) is { } min) ops.Add(new PruneRareTags(min, CaptionText.Parse(parse.GetValue(keep))));
            if (parse.GetValue(dedupe)) ops.Add(new RemoveDuplicateTags());
            if (parse.GetValue(activation) is { } tag) ops.Add(new AddActivationTag(tag));
            if (parse.GetValue(sort) is { } order)
                ops.Add(new SortTags(order switch
                {
                    "alpha" or "alphabetical" => TagSortOrder.Alphabetical,
                    "frequency" => TagSortOrder.Frequency,
                    _ => throw new CliException($"--sort must be alpha or frequency, not '{order}'."),
                }, parse.GetValue(keepFirst)));
            return ops;
        }
    }

    static Command UndoRedo(bool undo)
    {
        var dir = CaptionFolder();
        var captionExtension = CaptionExtension();
        var json = Json();
        var command = new Command(undo ? "undo" : "redo", undo ? "Revert the last caption operation (also after a restart)" : "Re-apply the last undone caption operation")
            { dir, captionExtension, json };
        command.SetAction(UsageErrors(parse =>
        {
            using var session = Open(parse.GetRequiredValue(dir), parse.GetRequiredValue(captionExtension), tagsCsv: null);
            var entry = undo ? session.Undo() : session.Redo();
            if (parse.GetValue(json))
                Console.WriteLine(JsonSerializer.Serialize(new { action = undo ? "undo" : "redo", description = entry.Description, files = entry.Changes.Select(c => c.File) }, Json));
            else
                Console.WriteLine($"{(undo ? "undid" : "redid")} '{entry.Description}' ({entry.Changes.Count} caption(s)).");
            return 0;
        }));
        return command;
    }

    /// <summary>Exit 0 when no problem was found, 1 otherwise.</summary>
    static Command Check()
    {
        var dir = new Argument<string>("dir") { Description = "the image folder" };
        var resolution = NumberOptions.Whole("--resolution", 512, "training resolution: smaller images are reported");
        var nearDistance = NumberOptions.Whole("--near-distance", 8, "perceptual-hash distance counted as a near-duplicate");
        var recursive = Flag("--recursive", "include sub-folders");
        var trashDuplicates = Flag("--trash-duplicates", "move redundant copies to the folder's trash");
        var json = Json();
        var command = new Command("check", "Duplicates, near-duplicates, small/large/transparent/unreadable images") { dir, resolution, nearDistance, recursive, trashDuplicates, json };
        command.SetAction(UsageErrors(parse =>
        {
            var folder = parse.GetRequiredValue(dir);
            var report = ImageChecks.Run(folder, new ImageCheckOptions
            {
                TrainingResolution = parse.GetValue(resolution),
                NearDuplicateDistance = parse.GetValue(nearDistance),
                Recursive = parse.GetValue(recursive),
            }, new ConsoleProgress(), Ntrain.Cancellation);
            TrashBatch? trashed = parse.GetValue(trashDuplicates) && report.RedundantCopies.Count > 0 ? Trash.Move(folder, report.RedundantCopies) : null;
            if (parse.GetValue(json))
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
        }));
        return command;
    }

    public static Command Curate()
    {
        var dir = CaptionFolder();
        var captionExtension = CaptionExtension();
        var tagsCsv = TagsCsv();
        var command = new Command("curate", "Interactive tag pruning page on 127.0.0.1 until Ctrl-C") { dir, captionExtension, tagsCsv };
        command.SetAction(UsageErrors(parse =>
        {
            var tagList = parse.GetValue(tagsCsv) is { } csv ? SelectedTags.Load(csv) : null;
            using var server = PruningServer.Start(parse.GetRequiredValue(dir), parse.GetRequiredValue(captionExtension), tagList);
            Console.WriteLine($"tag pruning page for {server.Folder}:");
            Console.WriteLine(server.Url);
            Console.WriteLine("Ctrl-C stops it.");
            try { server.WaitForShutdownAsync(Ntrain.Cancellation).GetAwaiter().GetResult(); }
            catch (OperationCanceledException) { }
            server.StopAsync().GetAwaiter().GetResult();
            Console.WriteLine("stopped.");
            return 0;
        }));
        return command;
    }
}
