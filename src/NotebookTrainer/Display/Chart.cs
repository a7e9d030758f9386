using System.Text;
using System.Text.Json;

namespace NotebookTrainer.Display;

/// <summary>
/// A chart that notebooks display: traces and axis titles, written as the plotly.js figure JSON and drawn by
/// plotly.js in the page (see <see cref="ToHtml"/>). Writing the figure ourselves keeps Plotly.NET and its
/// FSharp.Core out of the notebooks: the .NET Interactive kernel ships its own FSharp.Core, and a second
/// version loaded beside it broke every chart there.
/// </summary>
public sealed record Chart(IReadOnlyList<ChartTrace> Traces, string? XAxisTitle = null, string? YAxisTitle = null) : IHtmlRenderable
{
    /// <summary>
    /// plotly.js's default "plotly" template, reduced to what line and bar charts use, so charts look as
    /// they did with Plotly.NET (grey-blue plot area, white grid, plotly's colour sequence).
    /// </summary>
    const string Template = """
        {"layout":{"title":{"x":0.05},"font":{"color":"#2a3f5f"},"paper_bgcolor":"white","plot_bgcolor":"#e5ecf6",
        "hovermode":"closest","autotypenumbers":"strict","hoverlabel":{"align":"left"},
        "xaxis":{"title":{"standoff":15},"ticks":"","automargin":true,"gridcolor":"white","linecolor":"white","zerolinecolor":"white","zerolinewidth":2},
        "yaxis":{"title":{"standoff":15},"ticks":"","automargin":true,"gridcolor":"white","linecolor":"white","zerolinecolor":"white","zerolinewidth":2},
        "colorway":["#636efa","#EF553B","#00cc96","#ab63fa","#FFA15A","#19d3f3","#FF6692","#B6E880","#FF97FF","#FECB52"]},
        "data":{"bar":[{"type":"bar","marker":{"line":{"color":"#E5ECF6","width":0.5}}}]}}
        """;

    public const int Width = 600;
    public const int Height = 600;

    /// <summary>
    /// The figure as plotly.js takes it (<c>{"data": [...], "layout": {...}}</c>). Text is JSON-escaped with
    /// <c>&lt;</c>, <c>&gt;</c> and <c>&amp;</c> as \u escapes, so the figure can sit inside a script element.
    /// </summary>
    public string FigureJson()
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteStartArray("data");
            foreach (var trace in Traces)
            {
                json.WriteStartObject();
                trace.Write(json);
                json.WriteEndObject();
            }
            json.WriteEndArray();
            json.WriteStartObject("layout");
            json.WriteNumber("width", Width);
            json.WriteNumber("height", Height);
            json.WritePropertyName("template");
            json.WriteRawValue(Template);
            WriteAxis(json, "xaxis", XAxisTitle);
            WriteAxis(json, "yaxis", YAxisTitle);
            json.WriteEndObject();
            json.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    static void WriteAxis(Utf8JsonWriter json, string axis, string? title)
    {
        if (title is null) return;
        json.WriteStartObject(axis);
        json.WriteStartObject("title");
        json.WriteString("text", title);
        json.WriteEndObject();
        json.WriteEndObject();
    }

    /// <summary>
    /// A div and a script that draws the figure with the page's plotly.js. Charts do not embed plotly.js: our
    /// report ships it once (see <see cref="PlotlyJs"/>). Only a page without it (a kernel's webview, Jupyter
    /// opening an executed notebook) loads it from the plotly CDN, through require.js when the page uses AMD
    /// modules.
    /// </summary>
    public string ToHtml()
    {
        var id = "nt-chart-" + Guid.NewGuid().ToString("N")[..12];
        var cdn = $"https://cdn.plot.ly/plotly-{PlotlyJs.Version}.min";
        return $$$"""
            <div id="{{{id}}}" style="max-width:100%"></div>
            <script type="text/javascript">
            (function () {
              var figure = {{{FigureJson()}}};
              function draw(P) { P.newPlot('{{{id}}}', figure.data, figure.layout, {responsive: true}); }
              if (window.Plotly) { draw(window.Plotly); }
              else if (typeof require === 'function') { require.config({paths: {plotly: '{{{cdn}}}'}}); require(['plotly'], draw); }
              else { var s = document.createElement('script'); s.src = '{{{cdn}}}.js'; s.onload = function () { draw(window.Plotly); }; document.head.appendChild(s); }
            })();
            </script>
            """;
    }

    public override string ToString() => $"chart: {string.Join(", ", Traces.Select(t => t.Name))}";
}
