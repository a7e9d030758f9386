using NotebookTrainer.Downloads;
using NotebookTrainer.Progress;
using NotebookTrainer.Training;
using NotebookTrainer.World;

namespace NotebookTrainer.Catalog;

/// <summary>Turns what a user names as the base model into a file or folder on disk.</summary>
public static class BaseModels
{
    /// <summary>
    /// A catalog name (any case; the embedded tiny model is copied into <paramref name="modelsDir"/>, the others are
    /// downloaded there, resumably and sha256-checked), an http(s) link (downloaded), or an existing file or diffusers folder
    /// (used as it is). Returns the model's path.
    /// </summary>
    public static async Task<string> GetAsync(string model, ModelCatalog catalog, string modelsDir, HttpClient http,
        IProgress<ProgressUpdate>? progress = null, CancellationToken cancellationToken = default)
    {
        var entry = catalog.Entries.FirstOrDefault(e => e.Name.Equals(model, StringComparison.OrdinalIgnoreCase));
        if (entry?.IsEmbedded == true) return InstallEmbedded(entry, Path.Combine(modelsDir, entry.Name));
        if (entry is null && !model.Contains("://", StringComparison.Ordinal))
            return File.Exists(model) || Directory.Exists(model) ? model
                : throw new FileNotFoundException($"'{model}' is neither a catalog name ({string.Join(", ", catalog.Entries.Select(e => e.Name))}), a link, nor an existing file or folder.", model);
        var url = entry?.Url ?? model;
        var target = Path.Combine(modelsDir, Path.GetFileName(DownloadSource.Parse(url).Uri.AbsolutePath));
        var result = await new Downloader(http).DownloadAsync(new DownloadRequest(url, target, entry?.Sha256, entry?.Size), progress, cancellationToken);
        return result.Path;
    }

    /// <summary><c>embedded:tiny</c> is copied out of the build; <c>embedded:tiny-xl</c> is written from its seed (the same bytes every time).</summary>
    static string InstallEmbedded(CatalogEntry entry, string dir) => entry.Source switch
    {
        TrainingModelLoader.EmbeddedTiny => WorldModel.Install(dir),
        TinyStableDiffusion.XLSource => TinyStableDiffusion.Write(dir, TinyStableDiffusion.XLSeed, TinyStableDiffusion.XL),
        _ => throw new InvalidDataException($"model catalog entry '{entry.Name}': source '{entry.Source}' is not an embedded model this build has; use {TrainingModelLoader.EmbeddedTiny} or {TinyStableDiffusion.XLSource}."),
    };
}
