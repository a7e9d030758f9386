using NotebookTrainer.Configuration;
using NotebookTrainer.Datasets;
using NotebookTrainer.Datasets.Captions;
using NotebookTrainer.Datasets.Config;

namespace NotebookTrainer.Tests.Datasets;

public sealed class CaptionTests : TempDir
{
    static readonly SubsetOptions Txt = new() { CaptionExtension = ".txt" };

    (string? Caption, List<DatasetProblem> Problems) Read(string captionBytesName, byte[]? caption, SubsetOptions subset)
    {
        var image = Write(captionBytesName + ".png", TestImages.Png(8, 8));
        if (caption != null) Write(captionBytesName + ".txt", caption);
        var problems = new List<DatasetProblem>();
        return (CaptionFile.Read(image, subset, problems), problems);
    }

    static byte[] Utf8(string s) => System.Text.Encoding.UTF8.GetBytes(s);

    [Fact]
    public void First_line_stripped_or_all_non_empty_lines_with_wildcards()
    {
        Assert.Equal("red circle, white background", Read("a", Utf8("  red circle, white background \r\nsecond line\n"), Txt).Caption);
        Assert.Equal("one\ntwo", Read("b", Utf8("one\n\n two \n"), Txt with { EnableWildcard = true }).Caption);
    }

    [Fact]
    public void Bom_is_stripped_with_a_warning()
    {
        var (caption, problems) = Read("bom", [0xEF, 0xBB, 0xBF, .. Utf8("sks, dog")], Txt);
        Assert.Equal("sks, dog", caption);
        Assert.Contains(problems, p => !p.IsError && p.Message.Contains("BOM"));
    }

    [Fact]
    public void Non_utf8_caption_is_an_error_naming_file_and_offset()
    {
        var (caption, problems) = Read("latin1", [.. Utf8("caf"), 0xE9, .. Utf8(", dog")], Txt);
        Assert.Null(caption);
        var problem = Assert.Single(problems);
        Assert.True(problem.IsError);
        Assert.EndsWith("latin1.txt", problem.File);
        Assert.Contains("not valid UTF-8 (byte 0xE9 at offset 3)", problem.Message);

        var (utf16, utf16Problems) = Read("utf16", [0xFF, 0xFE, (byte)'a', 0], Txt);
        Assert.Null(utf16);
        Assert.Contains("UTF-16", Assert.Single(utf16Problems).Message);
    }

    [Fact]
    public void Empty_caption_file_is_an_error()
    {
        var (caption, problems) = Read("empty", [], Txt with { ClassTokens = "sks dog" });
        Assert.Null(caption);
        Assert.Contains(problems, p => p.IsError && p.Message.Contains("caption file is empty"));
    }

    [Fact]
    public void Missing_caption_falls_back_to_class_tokens_else_empty_with_warning()
    {
        Assert.Equal("sks dog", Read("c", null, Txt with { ClassTokens = "sks dog" }).Caption);
        var (caption, problems) = Read("d", null, Txt);
        Assert.Equal("", caption);
        Assert.Contains(problems, p => !p.IsError && p.Message.Contains("no class_tokens"));
        Assert.Equal("from file", Read("e", Utf8("from file"), Txt with { ClassTokens = "ignored" }).Caption);
    }

    static readonly CaptionContext Epoch1 = new(Epoch: 1);

    [Fact]
    public void Prefix_and_suffix_are_joined_with_a_space()
    {
        var subset = new SubsetOptions { CaptionPrefix = "masterpiece,", CaptionSuffix = ", best" };
        Assert.Equal("masterpiece, sks, dog , best", CaptionProcessor.Process("sks, dog", subset, Epoch1, new Random(1)));
    }

    [Fact]
    public void Shuffle_keeps_the_first_keep_tokens_and_is_deterministic_per_seed()
    {
        var subset = new SubsetOptions { ShuffleCaption = true, KeepTokens = 2 };
        const string caption = "sks, dog, a, b, c, d, e, f, g, h";
        var first = CaptionProcessor.Process(caption, subset, Epoch1, new Random(7));
        var again = CaptionProcessor.Process(caption, subset, Epoch1, new Random(7));
        var shuffles = Enumerable.Range(0, 20).Select(s => CaptionProcessor.Process(caption, subset, Epoch1, new Random(s))).ToHashSet();

        Assert.Equal(first, again);
        Assert.StartsWith("sks, dog, ", first);
        Assert.Equal(caption.Split(", ").Order(), first.Split(", ").Order());
        Assert.True(shuffles.Count > 10);
    }

    [Fact]
    public void Keep_tokens_separator_fixes_head_and_tail()
    {
        var subset = new SubsetOptions { ShuffleCaption = true, KeepTokensSeparator = "|||", CaptionTagDropoutRate = 0 };
        var result = CaptionProcessor.Process("1girl, miku ||| stage, mic, smile ||| best quality, rating: general", subset, Epoch1, new Random(3));
        var tokens = result.Split(", ");
        Assert.Equal(["1girl", "miku"], tokens[..2]);
        Assert.Equal(["best quality", "rating: general"], tokens[^2..]);
        Assert.Equal(["mic", "smile", "stage"], tokens[2..^2].Order());
    }

    [Fact]
    public void Tag_dropout_drops_only_flexible_tokens()
    {
        var all = new SubsetOptions { CaptionTagDropoutRate = 1.0, KeepTokens = 1 };
        Assert.Equal("sks", CaptionProcessor.Process("sks, a, b, c", all, Epoch1, new Random(1)));
        var none = new SubsetOptions { CaptionTagDropoutRate = 1e-9 };
        Assert.Equal("sks, a, b, c", CaptionProcessor.Process("sks,a ,b,  c", none, Epoch1, new Random(1)));
    }

    [Fact]
    public void Caption_dropout_by_rate_and_every_n_epochs()
    {
        Assert.Equal("", CaptionProcessor.Process("sks", new SubsetOptions { CaptionDropoutRate = 1.0 }, Epoch1, new Random(1)));
        var everyTwo = new SubsetOptions { CaptionDropoutEveryNEpochs = 2 };
        Assert.Equal("sks", CaptionProcessor.Process("sks", everyTwo, new CaptionContext(1), new Random(1)));
        Assert.Equal("", CaptionProcessor.Process("sks", everyTwo, new CaptionContext(2), new Random(1)));
        var half = new SubsetOptions { CaptionDropoutRate = 0.5 };
        var dropped = Enumerable.Range(0, 400).Count(i => CaptionProcessor.Process("x", half, Epoch1, new Random(i)) == "");
        Assert.InRange(dropped, 150, 250);
    }

    [Fact]
    public void Wildcards_pick_one_option_lines_and_unescape_double_braces()
    {
        var subset = new SubsetOptions { EnableWildcard = true };
        var picks = Enumerable.Range(0, 50).Select(i => CaptionProcessor.Process("1girl, {simple|white} background", subset, Epoch1, new Random(i))).ToHashSet();
        Assert.Equal(["1girl, simple background", "1girl, white background"], picks.Order());
        Assert.Equal("1girl, {retro style}", CaptionProcessor.Process("1girl, {{retro style}}", subset, Epoch1, new Random(1)));
        var lines = Enumerable.Range(0, 50).Select(i => CaptionProcessor.Process("line one\nline two", subset, Epoch1, new Random(i))).ToHashSet();
        Assert.Equal(["line one", "line two"], lines.Order());
    }

    [Fact]
    public void Secondary_separator_is_one_tag_then_becomes_the_caption_separator()
    {
        var subset = new SubsetOptions { ShuffleCaption = true, SecondarySeparator = ";;;" };
        var result = CaptionProcessor.Process("1girl, sky;;;cloud;;;day, outdoors", subset, Epoch1, new Random(5));
        Assert.Contains("sky,cloud,day", result);
        Assert.DoesNotContain(";;;", result);
    }

    [Fact]
    public void Token_warmup_starts_with_min_tokens_and_grows()
    {
        var subset = new SubsetOptions { TokenWarmupMin = 1, TokenWarmupStep = 10 };
        Assert.Equal("a", CaptionProcessor.Process("a, b, c, d, e", subset, new CaptionContext(1, Step: 0), new Random(1)));
        Assert.Equal("a, b, c", CaptionProcessor.Process("a, b, c, d, e", subset, new CaptionContext(1, Step: 5), new Random(1)));
        Assert.Equal("a, b, c, d, e", CaptionProcessor.Process("a, b, c, d, e", subset, new CaptionContext(1, Step: 10), new Random(1)));
    }
}
