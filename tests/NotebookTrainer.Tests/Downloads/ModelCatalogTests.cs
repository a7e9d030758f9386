using NotebookTrainer.Catalog;

namespace NotebookTrainer.Tests.Downloads;

public class ModelCatalogTests
{
    static string RepoFile(string relative)
    {
        var dir = AppContext.BaseDirectory;
        while (!File.Exists(Path.Combine(dir, "NotebookTrainer.sln"))) dir = Path.GetDirectoryName(dir)!;
        return Path.Combine(dir, relative);
    }

    [Fact]
    public void ShippedCatalogLoadsAndHasTheEmbeddedDefault()
    {
        var catalog = ModelCatalog.Load(RepoFile("data-templates/models.toml"));
        Assert.True(catalog["tiny"].IsEmbedded);
        Assert.Equal("v_prediction", catalog["sd21-768"].Prediction);
        Assert.All(catalog.Entries.Where(e => !e.IsEmbedded), e => Assert.StartsWith("https://", e.Url));
        Assert.Contains(catalog.Entries, e => e.Kind == "vae");
    }

    [Fact]
    public void ShippedCatalogListsTheSdxlFamilyWithPublishedHashes()
    {
        var catalog = ModelCatalog.Load(RepoFile("data-templates/models.toml"));
        foreach (var name in new[] { "sdxl-base", "pony-v6", "illustrious-xl", "noobai-eps", "noobai-vpred" })
        {
            var entry = catalog[name];
            Assert.Equal(("sdxl", 1024), (entry.Architecture, entry.Resolution));
            Assert.NotNull(entry.Sha256);
            Assert.InRange(entry.Size ?? 0, 6_000_000_000, 8_000_000_000);
        }
        Assert.Equal(("v_prediction", true), (catalog["noobai-vpred"].Prediction, catalog["noobai-vpred"].ZeroTerminalSnr));
        Assert.False(catalog["noobai-eps"].ZeroTerminalSnr);
        Assert.Equal("vae_sdxl", catalog["sdxl-vae-fp16-fix"].Architecture);
    }

    [Fact]
    public async Task TinyXlIsWrittenAsARandomWeightSdxlModel()
    {
        var catalog = ModelCatalog.Load(RepoFile("data-templates/models.toml"));
        Assert.Equal(("sdxl", true), (catalog["tiny-xl"].Architecture, catalog["tiny-xl"].IsEmbedded));
        var dir = Path.Combine(Path.GetTempPath(), $"catalog-tiny-xl-{Guid.NewGuid():N}");
        try
        {
            using var http = new HttpClient();
            var path = await BaseModels.GetAsync("tiny-xl", catalog, dir, http);
            var inspection = NotebookTrainer.Checkpoints.ModelInspection.Inspect(path);
            Assert.Equal(NotebookTrainer.Checkpoints.ModelArchitecture.StableDiffusionXL, inspection.Architecture);
            Assert.Empty(inspection.MissingKeys);
            Assert.Equal(File.ReadAllBytes(path), File.ReadAllBytes(await BaseModels.GetAsync("tiny-xl", catalog, dir + "-again", http)));
        }
        finally
        {
            foreach (var d in new[] { dir, dir + "-again" })
                if (Directory.Exists(d)) Directory.Delete(d, recursive: true);
        }
    }

    [Fact]
    public void BadEntriesNameTheKey()
    {
        var path = Path.Combine(Path.GetTempPath(), $"catalog-{Guid.NewGuid():N}.toml");
        File.WriteAllText(path, "[[models]]\nname = \"x\"\ntitle = \"X\"\narchitecture = \"sd_v1\"\nurl = \"https://a/b\"\nsha256 = \"abc\"\n");
        try
        {
            var e = Assert.Throws<InvalidDataException>(() => ModelCatalog.Load(path));
            Assert.Contains("models[0].sha256", e.Message);
        }
        finally { File.Delete(path); }
    }

    [Fact]
    public void HtmlEscapesNotes()
    {
        var catalog = new ModelCatalog(new[] { new CatalogEntry("a", "<script>x</script>", "model", "https://a", null, null, null, "sd_v1", null, null, null, null) });
        Assert.DoesNotContain("<script>", catalog.ToHtml());
    }
}
