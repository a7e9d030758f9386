using System.Text.Json.Nodes;

namespace NotebookTrainer.Runner.Ipynb;

/// <summary>One cell of an .ipynb, a view over its JSON object.</summary>
public sealed class NotebookCell(JsonObject json)
{
    static readonly JsonObject CSharpCellMetadata = new()
    {
        ["dotnet_interactive"] = new JsonObject { ["language"] = "csharp" },
        ["polyglot_notebook"] = new JsonObject { ["kernelName"] = "csharp" },
        ["vscode"] = new JsonObject { ["languageId"] = "polyglot-notebook" },
    };

    public JsonObject Json { get; } = json;

    public string CellType => Json["cell_type"]!.GetValue<string>();

    public bool IsCode => CellType == "code";

    public string Source => Json["source"] switch
    {
        JsonArray lines => string.Concat(lines.Select(l => l?.GetValue<string>() ?? "")),
        JsonValue text => text.GetValue<string>(),
        _ => "",
    };

    public IReadOnlyList<string> Tags =>
        (Json["metadata"] as JsonObject)?["tags"] is JsonArray tags ? tags.Select(t => t?.GetValue<string>() ?? "").ToList() : [];

    /// <summary>Clears outputs and execution count, as a cell looks before it runs.</summary>
    public void ResetOutputs()
    {
        if (!IsCode) return;
        Json["execution_count"] = null;
        Json["outputs"] = new JsonArray();
    }

    public void SetExecuted(int executionCount, JsonArray outputs)
    {
        Json["execution_count"] = executionCount;
        Json["outputs"] = outputs;
    }

    public static NotebookCell NewCode(string id, string source, params string[] tags)
    {
        var metadata = (JsonObject)CSharpCellMetadata.DeepClone();
        metadata["tags"] = new JsonArray(tags.Select(t => (JsonNode?)t).ToArray());
        return new NotebookCell(new JsonObject
        {
            ["cell_type"] = "code",
            ["execution_count"] = null,
            ["id"] = id,
            ["metadata"] = metadata,
            ["outputs"] = new JsonArray(),
            ["source"] = Lines(source),
        });
    }

    /// <summary>Jupyter's multi-line string form: a list of lines, each but the last ending in "\n".</summary>
    public static JsonArray Lines(string text)
    {
        var lines = new JsonArray();
        var start = 0;
        while (start < text.Length)
        {
            var end = text.IndexOf('\n', start);
            end = end < 0 ? text.Length : end + 1;
            lines.Add(text[start..end]);
            start = end;
        }
        return lines;
    }
}
