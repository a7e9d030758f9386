using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using NotebookTrainer.IO;

namespace NotebookTrainer.Runner.Ipynb;

/// <summary>
/// An .ipynb file held as JSON so that metadata we do not know survives a run unchanged.
/// Only cells, their sources, outputs and execution counts are read or rewritten.
/// </summary>
public sealed class NotebookDocument
{
    static readonly JsonSerializerOptions WriteOptions = new()
    {
        WriteIndented = true,
        IndentSize = 1,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    NotebookDocument(string path, JsonObject root, List<NotebookCell> cells)
    {
        Path = path;
        Root = root;
        Cells = cells;
    }

    public string Path { get; }

    public string FileName => System.IO.Path.GetFileName(Path);

    public JsonObject Root { get; }

    public List<NotebookCell> Cells { get; }

    public JsonObject Metadata => Root["metadata"] as JsonObject ?? (JsonObject)(Root["metadata"] = new JsonObject());

    public static NotebookDocument Load(string path)
    {
        JsonNode? node;
        try
        {
            node = JsonNode.Parse(File.ReadAllText(path), documentOptions: new JsonDocumentOptions { AllowTrailingCommas = true });
        }
        catch (JsonException e)
        {
            throw new NotebookFormatException($"{path}: not valid JSON (line {e.LineNumber + 1}): {e.Message} Fix the file or re-save it from Jupyter/VS Code.");
        }
        if (node is not JsonObject root)
            throw new NotebookFormatException($"{path}: the top level must be a JSON object with \"cells\", \"metadata\", \"nbformat\".");
        if (root["nbformat"]?.GetValue<int>() is not 4)
            throw new NotebookFormatException($"{path}: key \"nbformat\" must be 4 (found {root["nbformat"]?.ToJsonString() ?? "nothing"}); convert it with `jupyter nbconvert --to notebook`.");
        if (root["cells"] is not JsonArray cells)
            throw new NotebookFormatException($"{path}: key \"cells\" is missing or not an array.");
        var list = new List<NotebookCell>();
        foreach (var (cell, i) in cells.Select((c, i) => (c, i)))
        {
            if (cell is not JsonObject cellObject || cellObject["cell_type"]?.GetValue<string>() is not ("code" or "markdown" or "raw"))
                throw new NotebookFormatException($"{path}: cell {i + 1} has no \"cell_type\" of code, markdown or raw.");
            list.Add(new NotebookCell(cellObject));
        }
        return new NotebookDocument(System.IO.Path.GetFullPath(path), root, list);
    }

    /// <summary>
    /// Writes the notebook (cells in their current order) atomically as nbformat 4.5, giving cells of older
    /// notebooks the ids that 4.5 requires.
    /// </summary>
    public void Save(string path)
    {
        var cells = new JsonArray();
        var ids = Cells.Select(c => c.Json["id"]?.GetValue<string>()).OfType<string>().ToHashSet();
        foreach (var (cell, i) in Cells.Select((c, i) => (c, i)))
        {
            var copy = (JsonObject)cell.Json.DeepClone();
            if (copy["id"] is null)
            {
                var id = $"cell-{i + 1}";
                for (var n = 2; !ids.Add(id); n++) id = $"cell-{i + 1}-{n}";
                copy["id"] = id;
            }
            cells.Add(copy);
        }
        var notebook = (JsonObject)Root.DeepClone();
        notebook["cells"] = cells;
        notebook["nbformat"] = 4;
        if (notebook["nbformat_minor"] is null || notebook["nbformat_minor"]!.GetValue<int>() < 5) notebook["nbformat_minor"] = 5;
        AtomicFile.WriteAllText(path, notebook.ToJsonString(WriteOptions) + "\n");
    }
}

/// <summary>A notebook the runner cannot read; the message names the file and the fix.</summary>
public sealed class NotebookFormatException(string message) : Exception(message);
