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

    /// <summary>Writes the notebook (cells in their current order) atomically.</summary>
    public void Save(string path)
    {
        var cells = new JsonArray();
        foreach (var cell in Cells) cells.Add(cell.Json.DeepClone());
        var copy = (JsonObject)Root.DeepClone();
        copy["cells"] = cells;
        copy["nbformat"] = 4;
        if (copy["nbformat_minor"] is null || copy["nbformat_minor"]!.GetValue<int>() < 5) copy["nbformat_minor"] = 5;
        AtomicFile.WriteAllText(path, copy.ToJsonString(WriteOptions) + "\n");
    }
}

/// <summary>A notebook the runner cannot read; the message names the file and the fix.</summary>
public sealed class NotebookFormatException(string message) : Exception(message);
