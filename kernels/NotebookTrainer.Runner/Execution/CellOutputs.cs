using System.Text;
using System.Text.Json.Nodes;
using NotebookTrainer.Display;
using NotebookTrainer.Runner.Ipynb;

namespace NotebookTrainer.Runner.Execution;

/// <summary>
/// The outputs of one code cell, in order. Thread-safe: training loops report progress from worker
/// threads, and a display handle may be updated after its cell has finished.
/// </summary>
public sealed class CellOutputs
{
    readonly object gate = new();
    readonly List<CellOutput> outputs = [];

    public void AppendStream(string name, string text)
    {
        if (text.Length == 0) return;
        lock (gate)
        {
            if (outputs.Count > 0 && outputs[^1] is StreamOutput last && last.Name == name) last.Text.Append(text);
            else outputs.Add(new StreamOutput(name, new StringBuilder(text)));
        }
    }

    public DisplayOutput AddDisplay(MimeBundle bundle, int? executionCount = null)
    {
        var output = new DisplayOutput(bundle, executionCount);
        lock (gate) outputs.Add(output);
        return output;
    }

    public void Replace(DisplayOutput output, MimeBundle bundle)
    {
        lock (gate) output.Bundle = bundle;
    }

    public void AddError(string ename, string evalue, IReadOnlyList<string> traceback)
    {
        lock (gate) outputs.Add(new ErrorOutput(ename, evalue, traceback));
    }

    public JsonArray ToJson()
    {
        lock (gate) return new JsonArray(outputs.Select(o => (JsonNode?)o.ToJson()).ToArray());
    }
}

public abstract class CellOutput
{
    public abstract JsonObject ToJson();
}

public sealed class StreamOutput(string name, StringBuilder text) : CellOutput
{
    public string Name { get; } = name;

    public StringBuilder Text { get; } = text;

    public override JsonObject ToJson() => new()
    {
        ["output_type"] = "stream",
        ["name"] = Name,
        ["text"] = NotebookCell.Lines(Text.ToString()),
    };
}

/// <summary>A displayed value; <see cref="ExecutionCount"/> is set for a cell's trailing expression (execute_result).</summary>
public sealed class DisplayOutput(MimeBundle bundle, int? executionCount) : CellOutput
{
    public MimeBundle Bundle { get; set; } = bundle;

    public int? ExecutionCount { get; } = executionCount;

    public override JsonObject ToJson()
    {
        var data = new JsonObject();
        foreach (var (mime, content) in Bundle.Data)
        {
            data[mime] = mime switch
            {
                MimeBundle.Png => content,
                _ when mime.EndsWith("json", StringComparison.Ordinal) => JsonNode.Parse(content),
                _ => NotebookCell.Lines(content),
            };
        }
        var json = new JsonObject();
        if (ExecutionCount is { } count)
        {
            json["output_type"] = "execute_result";
            json["execution_count"] = count;
        }
        else
        {
            json["output_type"] = "display_data";
        }
        json["data"] = data;
        json["metadata"] = new JsonObject();
        return json;
    }
}

public sealed class ErrorOutput(string ename, string evalue, IReadOnlyList<string> traceback) : CellOutput
{
    public override JsonObject ToJson() => new()
    {
        ["output_type"] = "error",
        ["ename"] = ename,
        ["evalue"] = evalue,
        ["traceback"] = new JsonArray(traceback.Select(t => (JsonNode?)t).ToArray()),
    };
}
