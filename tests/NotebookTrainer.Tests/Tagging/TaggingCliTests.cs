using System.Text.Json;
using NotebookTrainer.Datasets;

namespace NotebookTrainer.Tests.Tagging;

/// <summary>The ntrain tagging commands as a user runs them: a separate process, exit codes and messages.</summary>
public sealed class TaggingCliTests : IDisposable
{
    readonly string root = Path.Combine(Path.GetTempPath(), $"nt-cli-tag-{Guid.NewGuid():N}");

    public TaggingCliTests() => Directory.CreateDirectory(root);

    public void Dispose() => Directory.Delete(root, recursive: true);

    static (int Code, string Out, string Err) Ntrain(params string[] args) => NtrainProcess.Run(args, TimeSpan.FromMinutes(5));

    [Fact]
    public void Tiny_tagger_tag_edit_and_undo_round_trip()
    {
        var model = Path.Combine(root, "model");
        Assert.Equal(0, Ntrain("tagger", "tiny", "--out", model).Code);
        SampleDataset.Generate(root, count: 12);
        var dir = Path.Combine(root, SampleDataset.FolderName);
        var original = File.ReadAllText(Path.Combine(dir, "000.txt"));

        var tag = Ntrain("tag", dir, "--model", model, "--cpu", "--json");
        Assert.True(tag.Code == 0, tag.Err);
        Assert.Equal(12, JsonDocument.Parse(tag.Out).RootElement.GetProperty("images").GetArrayLength());
        Assert.Equal("red circle, white background\n", File.ReadAllText(Path.Combine(dir, "000.txt")));

        var edit = Ntrain("tags", "edit", dir, "--activation", "sks", "--remove", "white background", "--json");
        Assert.True(edit.Code == 0, edit.Err);
        Assert.Equal(2, JsonDocument.Parse(edit.Out).RootElement.GetProperty("operations").GetArrayLength());
        Assert.Equal("sks, red circle\n", File.ReadAllText(Path.Combine(dir, "000.txt")));

        var stats = JsonDocument.Parse(Ntrain("tags", "stats", dir, "--json").Out).RootElement;
        Assert.Equal(12, stats.GetProperty("images").GetInt32());
        Assert.Equal("sks", stats.GetProperty("tags")[0].GetProperty("tag").GetString());

        Assert.Equal(0, Ntrain("tags", "undo", dir).Code);
        Assert.Equal(0, Ntrain("tags", "undo", dir).Code);
        Assert.Equal("red circle, white background\n", File.ReadAllText(Path.Combine(dir, "000.txt")));
        Assert.Equal(0, Ntrain("tags", "redo", dir).Code);
        Assert.Equal("red circle\n", File.ReadAllText(Path.Combine(dir, "000.txt")));
        Assert.NotEqual(original, File.ReadAllText(Path.Combine(dir, "000.txt")));
    }

    [Theory]
    [InlineData("tag {dir} --model {dir}", "model.onnx: not found")]
    [InlineData("tag {dir} --model {dir} --rating middle", "--rating must be off, first or last")]
    [InlineData("tags edit {dir} --with x", "--with needs --replace")]
    [InlineData("tags edit {dir}", "no operation given")]
    [InlineData("tags undo {dir}", "Nothing to undo")]
    [InlineData("tags edit {dir} --image nope.png --add x", "no such image")]
    [InlineData("tags stats {dir} --bogus", "unknown option --bogus")]
    [InlineData("tagger big --out {dir}", "tagger tiny --out DIR")]
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
