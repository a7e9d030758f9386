using NotebookTrainer.Display;
using Tomlyn;
using Tomlyn.Model;

namespace NotebookTrainer.Catalog;

public sealed record CatalogEntry(string Name, string Title, string Kind, string? Url, string? Source, string? Sha256, long? Size,
    string Architecture, string? Prediction, int? Resolution, string? License, string? Notes)
{
    public bool IsEmbedded => Source?.StartsWith("embedded:", StringComparison.Ordinal) == true;

    /// <summary>The model was trained with zero terminal SNR (NoobAI V-Pred): training and sampling must use it too.</summary>
    public bool ZeroTerminalSnr { get; init; }
}

/// <summary>The base models and VAEs users pick from (<c>data-templates/models.toml</c>).</summary>
public sealed class ModelCatalog(IReadOnlyList<CatalogEntry> entries) : IHtmlRenderable
{
    public IReadOnlyList<CatalogEntry> Entries { get; } = entries;

    public CatalogEntry this[string name] => Entries.FirstOrDefault(e => e.Name.Equals(name, StringComparison.OrdinalIgnoreCase))
        ?? throw new KeyNotFoundException($"No model named '{name}' in the catalog. Known: {string.Join(", ", Entries.Select(e => e.Name))}.");

    public static ModelCatalog Load(string path)
    {
        TomlTable root;
        try { root = TomlSerializer.Deserialize<TomlTable>(File.ReadAllText(path))!; }
        catch (TomlException e) { throw new InvalidDataException($"{path}: {e.Message}", e); }

        var entries = new List<CatalogEntry>();
        foreach (var (section, kind) in new[] { ("models", "model"), ("vaes", "vae") })
        {
            if (!root.TryGetValue(section, out var value)) continue;
            if (value is not TomlTableArray tables)
                throw new InvalidDataException($"{path}: '{section}' must be an array of tables ([[{section}]]).");
            for (int i = 0; i < tables.Count; i++)
                entries.Add(Parse(path, $"{section}[{i}]", kind, tables[i]));
        }
        var duplicate = entries.GroupBy(e => e.Name, StringComparer.OrdinalIgnoreCase).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null)
            throw new InvalidDataException($"{path}: the name '{duplicate.Key}' is used twice; names must be unique.");
        return new ModelCatalog(entries);
    }

    static CatalogEntry Parse(string path, string where, string kind, TomlTable t)
    {
        string? Str(string key) => t.TryGetValue(key, out var v) ? v as string ?? throw new InvalidDataException($"{path}: {where}.{key} must be a string.") : null;
        string Required(string key) => Str(key) is { Length: > 0 } s ? s : throw new InvalidDataException($"{path}: {where}.{key} is required.");
        long? Int(string key) => t.TryGetValue(key, out var v) ? v as long? ?? throw new InvalidDataException($"{path}: {where}.{key} must be an integer.") : null;
        bool Bool(string key) => t.TryGetValue(key, out var v) && (v as bool? ?? throw new InvalidDataException($"{path}: {where}.{key} must be true or false."));

        var entry = new CatalogEntry(Required("name"), Required("title"), kind, Str("url"), Str("source"), NullIfEmpty(Str("sha256")), Int("size"),
            Required("architecture"), Str("prediction"), (int?)Int("resolution"), Str("license"), Str("notes")) { ZeroTerminalSnr = Bool("zero_terminal_snr") };
        if (entry.Url is null && entry.Source is null)
            throw new InvalidDataException($"{path}: {where} needs a url or a source.");
        if (entry.Sha256 is { } sha && (sha.Length != 64 || !sha.All(Uri.IsHexDigit)))
            throw new InvalidDataException($"{path}: {where}.sha256 must be 64 hex digits.");
        return entry;
    }

    static string? NullIfEmpty(string? s) => string.IsNullOrWhiteSpace(s) ? null : s;

    public string ToHtml() => Html.Table(
        new[] { "name", "title", "architecture", "prediction", "licence", "notes" },
        Entries.Select(e => new object?[] { e.Name, e.Title, e.Architecture, e.Prediction, e.License, e.Notes }));
}
