using System.Text.Json.Nodes;
using NotebookTrainer.Datasets;
using NotebookTrainer.Datasets.FineTune;

namespace NotebookTrainer.Tests.Datasets;

public sealed class MetadataMergeTests : TempDir
{
    static JsonObject Json(string path) => JsonNode.Parse(File.ReadAllText(path))!.AsObject();

    [Fact]
    public void Captions_and_tags_merge_into_one_entry_per_image_keyed_by_name()
    {
        Write("img/b.png", TestImages.Png(8, 8));
        Write("img/a.jpg", TestImages.Jpeg(8, 8));
        Write("img/c.PNG", TestImages.Png(8, 8));
        Write("img/d.Png", TestImages.Png(8, 8));          // kohya globs lower and upper case only
        WriteText("img/a.caption", "  a cartoon lady\n");
        WriteText("img/b.caption", "\x1c a circle \u3000");   // Python's strip() also removes U+001C–U+001F
        WriteText("img/c.caption", "third");
        WriteText("img/a.txt", "red_circle, solo\n");
        WriteText("img/b.txt", "blue_square");
        var json = Path.Combine(Root, "meta.json");

        var captions = MetadataMerge.Captions(new MetadataMergeOptions { TrainDataDir = Path.Combine(Root, "img"), OutJson = json });
        Assert.Equal((3, 3), (captions.Images, captions.Merged));
        Assert.Null(captions.InJson);
        // out_json exists now, so it is read and merged into (kohya's default for in_json).
        var tags = MetadataMerge.Tags(new MetadataMergeOptions { TrainDataDir = Path.Combine(Root, "img"), OutJson = json });
        Assert.Equal(json, tags.InJson);
        Assert.Equal(2, tags.Merged);
        var missing = Assert.Single(tags.Problems);
        Assert.True(missing.IsError);
        Assert.EndsWith("c.PNG", missing.File);
        Assert.Contains("c.txt", missing.Message);

        Assert.Equal("""
            {
              "a": {
                "caption": "a cartoon lady",
                "tags": "red_circle, solo"
              },
              "b": {
                "caption": "a circle",
                "tags": "blue_square"
              },
              "c": {
                "caption": "third"
              }
            }
            """.ReplaceLineEndings("\n"), File.ReadAllText(json));
    }

    [Fact]
    public void In_json_keeps_other_fields_full_path_keys_recurse_and_recursive_needs_full_path()
    {
        Write("img/x.png", TestImages.Png(8, 8));
        Write("img/sub/y.webp", TestImages.Encode(8, 8, SkiaSharp.SKEncodedImageFormat.Webp));
        WriteText("img/x.txt", "one");
        WriteText("img/sub/y.txt", "two");
        var existing = WriteText("old.json", """{ "/elsewhere/z.png": { "caption": "kept", "train_resolution": [512, 512] } }""");
        var output = Path.Combine(Root, "new.json");

        Assert.Throws<ArgumentException>(() => MetadataMerge.Tags(new MetadataMergeOptions { TrainDataDir = Path.Combine(Root, "img"), OutJson = output, Recursive = true }));
        var report = MetadataMerge.Tags(new MetadataMergeOptions { TrainDataDir = Path.Combine(Root, "img"), OutJson = output, InJson = existing, FullPath = true, Recursive = true });

        Assert.Equal(2, report.Merged);
        var json = Json(output);
        Assert.Equal(["/elsewhere/z.png", Path.Combine(Root, "img", "sub", "y.webp"), Path.Combine(Root, "img", "x.png")], json.Select(p => p.Key));
        Assert.Equal("kept", (string?)json["/elsewhere/z.png"]!["caption"]);
        Assert.Equal(512, (int)json["/elsewhere/z.png"]!["train_resolution"]![0]!);
        Assert.Equal("two", (string?)json[Path.Combine(Root, "img", "sub", "y.webp")]!["tags"]);
        Assert.Equal("""{ "/elsewhere/z.png": { "caption": "kept", "train_resolution": [512, 512] } }""", File.ReadAllText(existing));
    }

    [Fact]
    public void Bad_metadata_is_an_error_naming_the_file_and_nothing_is_written()
    {
        Write("img/x.png", TestImages.Png(8, 8));
        WriteText("img/x.caption", "x");
        var broken = WriteText("broken.json", "{ \"x\": ");
        var list = WriteText("list.json", "[1, 2]");
        var notObject = WriteText("entry.json", """{ "x": "just a string" }""");
        var output = Path.Combine(Root, "out.json");
        var options = new MetadataMergeOptions { TrainDataDir = Path.Combine(Root, "img"), OutJson = output };

        Assert.Contains(broken, Assert.Throws<InvalidDataException>(() => MetadataMerge.Captions(options with { InJson = broken })).Message);
        Assert.Contains("must be an object", Assert.Throws<InvalidDataException>(() => MetadataMerge.Captions(options with { InJson = list })).Message);
        Assert.Contains("'x' is not an object", Assert.Throws<InvalidDataException>(() => MetadataMerge.Captions(options with { InJson = notObject })).Message);
        Assert.Throws<DirectoryNotFoundException>(() => MetadataMerge.Captions(options with { TrainDataDir = Path.Combine(Root, "nope") }));
        Assert.Throws<ArgumentException>(() => MetadataMerge.Captions(options with { CaptionExtension = "txt" }));
        Assert.False(File.Exists(output));
    }

    // Expected values worked through kohya's clean_captions_and_tags.py rule by rule (and confirmed by running it).
    [Theory]
    [InlineData("1girl, long_hair, blue_eyes, smile, rating:safe", "1girl, long hair, blue eyes, smile")]
    // Two girls: the two eye colours and the two hairstyles go, the one hair length stays while the two hair
    // colours go, and "shirt" goes beside "white shirt"; only the text before the first rating is kept.
    [InlineData("2girls, long_hair, blonde_hair, brown_hair, blue_eyes, red_eyes, shirt, white_shirt, ponytail, twintails, rating:questionable, rating:explicit",
        "2girls, long hair, white shirt")]
    [InlineData("2girls, long_hair, short_hair, brown_hair, blonde_hair", "2girls")]
    [InlineData("^_^, looking_at_viewer, hair_ornament, star_hair_ornament", "^_^, looking at viewer, star hair ornament")]
    [InlineData("multiple_girls, 2girls, short_hair, black_hair, long_sleeves, sleeveless, bob_cut, hime_cut", "multiple girls, 2girls, short hair, black hair")]
    [InlineData("1boy, 2boys, red_hair, medium_hair, hat, red_hat", "1boy, 2boys, red hair, medium hair, red hat")]
    [InlineData("2girls, ponytail, side_bun, x_sleeves, sleeveless, hair_ornament, flower_hair_ornament", "2girls, flower hair ornament")]
    [InlineData("café_au_lait, au_lait, solo", "café au lait, au lait, solo")]
    [InlineData("2girls, ñ_hair, blue_hair", "2girls")]
    // Python's \w does not match the combining accent, so "é hair" is no hair colour and the one left stays.
    [InlineData("2girls, e\u0301_hair, blue_hair", "2girls, e\u0301 hair, blue hair")]
    [InlineData("", "")]
    public void Tags_are_cleaned_by_kohyas_rules(string tags, string expected) =>
        Assert.Equal(expected, MetadataCleaner.CleanTags(tags));

    [Theory]
    [InlineData("a young anime girl with a cartoon lady", "a girl with a girl")]
    [InlineData("an anime cartoon image of a woman and women", "an image of a girl and girls")]
    [InlineData("two people and a person, anime anime anime girl", "two girls and a girl, girl")]
    [InlineData("a cartoon anime drawing of young young lady", "a drawing of girl")]
    public void Captions_are_cleaned_by_kohyas_replacements(string caption, string expected) =>
        Assert.Equal(expected, MetadataCleaner.CleanCaption(caption));

    [Fact]
    public void Clean_rewrites_every_entry_and_reports_entries_without_tags_or_caption()
    {
        var input = WriteText("in.json", """
            {
              "a": { "caption": "a woman", "tags": "red_circle, rating:safe", "train_resolution": [512, 512] },
              "b": { "caption": "a circle" },
              "c": { "tags": "solo" }
            }
            """);
        var output = Path.Combine(Root, "out.json");
        var log = new List<string>();

        var report = MetadataCleaner.Clean(input, output, debug: true, log.Add);

        Assert.Equal((3, 1, 1), (report.Entries, report.TagsChanged, report.CaptionsChanged));
        Assert.Equal(["'b' has no tags", "'c' has no caption"], report.Problems.Select(p => p.Message[..p.Message.IndexOf(';')]));
        Assert.All(report.Problems, p => Assert.False(p.IsError));
        Assert.Contains($"FROM: red_circle, rating:safe{Environment.NewLine}TO:   red circle", log);
        var json = Json(output);
        Assert.Equal("red circle", (string?)json["a"]!["tags"]);
        Assert.Equal("a girl", (string?)json["a"]!["caption"]);
        Assert.Equal(512, (int)json["a"]!["train_resolution"]![1]!);
        Assert.Equal("solo", (string?)json["c"]!["tags"]);

        var wrongType = WriteText("wrong.json", """{ "a": { "tags": ["a", "b"] } }""");
        Assert.Contains("'a'.tags is not a string", Assert.Throws<InvalidDataException>(() => MetadataCleaner.Clean(wrongType, output)).Message);
        Assert.Throws<FileNotFoundException>(() => MetadataCleaner.Clean(Path.Combine(Root, "none.json"), output));
    }
}
