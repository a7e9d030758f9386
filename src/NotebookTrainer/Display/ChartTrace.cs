using System.Text.Json;

namespace NotebookTrainer.Display;

/// <summary>One series of a <see cref="Chart"/>, written as a plotly.js trace.</summary>
public abstract record ChartTrace(string Name)
{
    internal abstract void Write(Utf8JsonWriter json);

    /// <summary>JSON has no NaN or infinity: a diverged loss becomes null, which plotly.js draws as a gap.</summary>
    internal static void WriteNumbers(Utf8JsonWriter json, string property, IEnumerable<double> values)
    {
        json.WriteStartArray(property);
        foreach (var value in values)
        {
            if (double.IsFinite(value)) json.WriteNumberValue(value);
            else json.WriteNullValue();
        }
        json.WriteEndArray();
    }
}

/// <summary>A line over numeric x values (steps, epochs); <paramref name="Opacity"/> below 1 fades it behind others.</summary>
public sealed record LineTrace(string Name, IReadOnlyList<double> X, IReadOnlyList<double> Y, double Opacity = 1) : ChartTrace(Name)
{
    internal override void Write(Utf8JsonWriter json)
    {
        json.WriteString("type", "scatter");
        json.WriteString("mode", "lines");
        json.WriteString("name", Name);
        if (Opacity < 1) json.WriteNumber("opacity", Opacity);
        WriteNumbers(json, "x", X);
        WriteNumbers(json, "y", Y);
    }
}

/// <summary>Points without a line, drawn large: a value to pick out, such as the best epoch.</summary>
public sealed record MarkerTrace(string Name, IReadOnlyList<double> X, IReadOnlyList<double> Y) : ChartTrace(Name)
{
    internal override void Write(Utf8JsonWriter json)
    {
        json.WriteString("type", "scatter");
        json.WriteString("mode", "markers");
        json.WriteString("name", Name);
        json.WriteStartObject("marker");
        json.WriteNumber("size", 12);
        json.WriteString("symbol", "star");
        json.WriteEndObject();
        WriteNumbers(json, "x", X);
        WriteNumbers(json, "y", Y);
    }
}

/// <summary>Vertical bars, one per category label.</summary>
public sealed record BarTrace(string Name, IReadOnlyList<string> Categories, IReadOnlyList<double> Values) : ChartTrace(Name)
{
    internal override void Write(Utf8JsonWriter json)
    {
        json.WriteString("type", "bar");
        json.WriteString("name", Name);
        json.WriteStartArray("x");
        foreach (var category in Categories) json.WriteStringValue(category);
        json.WriteEndArray();
        WriteNumbers(json, "y", Values);
    }
}
