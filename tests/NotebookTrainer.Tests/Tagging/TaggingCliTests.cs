using System.Text.Json;
using NotebookTrainer.Datasets;
using NotebookTrainer.World;

namespace NotebookTrainer.Tests.Tagging;

/// <summary>The ntrain tagging commands as a user runs them: a separate process, exit codes and messages.</summary>
[Collection(WorldTaggerCollection.Name)]
public sealed class TaggingCliTests : IDisposable
{
    readonly string root = Path.Combine(Path.GetTempPath(), $"nt-cli-tag-{Guid.NewGuid():N}");
    readonly WorldTaggerFixture judge;

    public TaggingCliTests(WorldTaggerFixture judge)
    {
        this.judge = judge;
        Directory.CreateDirectory(root);
    }

    public void Dispose() => Directory.Delete(root, recursive: true);

    static (int Code, string Out, string Err) Ntrain(params string[] args) => NtrainProcess.Run(args, TimeSpan.FromMinutes(5));

    [Fact]
    public void World_tagger_trains_and_reports_its_accuracy_as_json()
    {
        var model = Path.Combine(root, "model");
        var train = Ntrain("tagger", "world", "--out", model, "--images", "64", "--steps", "4", "--test-images", "12", "--json");
        Assert.True(train.Code == 0, train.Err);
        var fit = JsonDocument.Parse(train.Out).RootElement;
        Assert.Equal(model, fit.GetProperty("model").GetString());
        Assert.Equal(12, fit.GetProperty("test").GetProperty("images").GetInt32());
        Assert.Contains("training judge: 4/4", train.Err);
        Assert.True(File.Exists(Path.Combine(model, "selected_tags.csv")));

        var evaluate = Ntrain("tagger", "evaluate", "--model", model, "--count", "10", "--json");
        var accuracy = JsonDocument.Parse(evaluate.Out).RootElement;
        Assert.Equal(10, accuracy.GetProperty("images").GetInt32());
        var colour = accuracy.GetProperty("attributes").EnumerateArray().Single(a => a.GetProperty("attribute").GetString() == "colour");
        // Four steps teach nothing, so the 95% bar is missed and the exit code says so.
        Assert.True(colour.GetProperty("accuracy").GetDouble() < 0.95);
        Assert.Equal(1, evaluate.Code);
    }

    [Fact]
    public void Tag_edit_and_undo_round_trip()
    {
        SampleDataset.Generate(root, count: 12);
        var dir = Path.Combine(root, SampleDataset.FolderName);

        var tag = Ntrain("tag", dir, "--model", judge.ModelDir, "--cpu", "--json");
        Assert.True(tag.Code == 0, tag.Err);
        var images = JsonDocument.Parse(tag.Out).RootElement.GetProperty("images");
        Assert.Equal(12, images.GetArrayLength());
        var first = images.EnumerateArray().Single(i => Path.GetFileName(i.GetProperty("image").GetString()) == "000.png");
        var tags = first.GetProperty("tags").EnumerateArray().Select(t => t.GetString()!).ToList();
        Assert.True(tags.Count >= 2, string.Join(", ", tags));
        var tagged = string.Join(", ", tags) + "\n";
        Assert.Equal(tagged, File.ReadAllText(Path.Combine(dir, "000.txt")));

        var edit = Ntrain("tags", "edit", dir, "--activation", "sks", "--remove", tags[0], "--json");
        Assert.True(edit.Code == 0, edit.Err);
        Assert.Equal(2, JsonDocument.Parse(edit.Out).RootElement.GetProperty("operations").GetArrayLength());
        Assert.Equal(string.Join(", ", tags.Skip(1).Prepend("sks")) + "\n", File.ReadAllText(Path.Combine(dir, "000.txt")));

        var stats = JsonDocument.Parse(Ntrain("tags", "stats", dir, "--json").Out).RootElement;
        Assert.Equal(12, stats.GetProperty("images").GetInt32());
        Assert.Equal("sks", stats.GetProperty("tags")[0].GetProperty("tag").GetString());

        Assert.Equal(0, Ntrain("tags", "undo", dir).Code);
        Assert.Equal(0, Ntrain("tags", "undo", dir).Code);
        Assert.Equal(tagged, File.ReadAllText(Path.Combine(dir, "000.txt")));
        Assert.Equal(0, Ntrain("tags", "redo", dir).Code);
        Assert.Equal(string.Join(", ", tags.Skip(1)) + "\n", File.ReadAllText(Path.Combine(dir, "000.txt")));
    }

    [Theory]
    [InlineData("tag {dir} --model {dir}", "model.onnx: not found")]
    [InlineData("tag {dir} --model {dir} --rating middle", "--rating must be off, first or last")]
    [InlineData("tags edit {dir} --with x", "--with needs --replace")]
    [InlineData("tags edit {dir}", "no operation given")]
    [InlineData("tags undo {dir}", "Nothing to undo")]
    [InlineData("tags edit {dir} --image nope.png --add x", "no such image")]
    [InlineData("tags stats {dir} --bogus", "'--bogus'")]
    [InlineData("tagger big --out {dir}", "'big'. See 'ntrain tagger --help'")]
    [InlineData("tagger world --out {dir} --steps 0", "--steps must be at least 1")]
    [InlineData("tagger evaluate --model {dir}", "model.onnx: not found")]
    public void Bad_input_exits_2_with_a_message_that_says_what_to_do(string command, string expected)
    {
        SampleDataset.Generate(root, count: 2);
        var dir = Path.Combine(root, SampleDataset.FolderName);
        var (code, _, err) = Ntrain(command.Split(' ').Select(a => a.Replace("{dir}", dir)).ToArray());
        Assert.Equal(2, code);
        Assert.Contains(expected, err);
        Assert.DoesNotContain("   at ", err);
    }
}
