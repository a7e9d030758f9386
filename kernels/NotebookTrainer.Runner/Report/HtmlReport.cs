using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using NotebookTrainer.Display;
using NotebookTrainer.IO;
using NotebookTrainer.Runner.Ipynb;

namespace NotebookTrainer.Runner.Report;

/// <summary>
/// One self-contained HTML page for every notebook of a run: rendered markdown, code, outputs. Nothing is
/// fetched when it is opened: images are inline and plotly.js is embedded once when a chart is shown.
/// </summary>
public static class HtmlReport
{
    const string Style = """
        body{font-family:system-ui,-apple-system,Segoe UI,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#1b1f24}
        nav li{margin:.2em 0} .ok{color:#1a7f37} .failed{color:#cf222e} .notebook{border-top:2px solid #d0d7de;margin-top:2em}
        .cell{margin:1em 0} .code pre.source{background:#f6f8fa;border-left:3px solid #0969da;padding:.6em;overflow-x:auto}
        .count{color:#57606a;font-size:.8em} pre{white-space:pre-wrap;margin:.3em 0} pre.stderr{background:#fff8c5}
        pre.error{background:#ffebe9;color:#82071e;padding:.5em} .output{padding-left:.8em;border-left:3px solid #d0d7de}
        table.nt-table{border-collapse:collapse} table.nt-table td,table.nt-table th{border:1px solid #d0d7de;padding:.2em .5em;text-align:left}
        img{max-width:100%}
        """;

    public static void Write(string path, IReadOnlyList<NotebookRun> runs)
    {
        var body = new StringBuilder();
        body.Append("<h1>Notebook run</h1>\n<nav><ol>\n");
        foreach (var run in runs)
        {
            body.Append("<li><a href=\"#").Append(Anchor(run)).Append("\">").Append(Html.Escape(run.Notebook.FileName)).Append("</a> ")
                .Append(Status(run)).Append("</li>\n");
        }
        body.Append("</ol></nav>\n");
        foreach (var run in runs) AppendNotebook(body, run);

        var html = body.ToString();
        var page = new StringBuilder();
        page.Append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"/><title>Notebook run</title>\n<style>")
            .Append(Style).Append("</style>\n");
        if (html.Contains("nt-chart-", StringComparison.Ordinal))
            page.Append("<script type=\"text/javascript\">").Append(PlotlyJs.Source().Replace("</script", "<\\/script", StringComparison.OrdinalIgnoreCase)).Append("</script>\n");
        page.Append("</head><body>\n").Append(html).Append("</body></html>\n");
        AtomicFile.WriteAllText(path, page.ToString());
    }

    static string Anchor(NotebookRun run) => "nb-" + string.Concat(run.Notebook.FileName.Select(c => char.IsLetterOrDigit(c) ? c : '-'));

    static string Status(NotebookRun run) => run.Failure is null
        ? $"<span class=\"ok\">ok</span> ({run.Duration.TotalSeconds.ToString("0.0", CultureInfo.InvariantCulture)} s)"
        : $"<span class=\"failed\">failed at cell {run.Failure.Cell}, line {run.Failure.Line}</span>";

    static void AppendNotebook(StringBuilder html, NotebookRun run)
    {
        html.Append("<section class=\"notebook\" id=\"").Append(Anchor(run)).Append("\"><h2>").Append(Html.Escape(run.Notebook.FileName))
            .Append("</h2><p>").Append(Status(run)).Append("</p>\n");
        if (run.Parameters.Count > 0)
            html.Append(Html.Table(["parameter", "value"], run.Parameters.Select(p => new object?[] { p.Key, p.Value })));
        foreach (var cell in run.Notebook.Cells)
        {
            if (cell.CellType == "markdown")
            {
                html.Append("<div class=\"cell markdown\">").Append(Markdown.ToHtml(cell.Source)).Append("</div>\n");
                continue;
            }
            if (!cell.IsCode)
            {
                html.Append("<div class=\"cell raw\"><pre>").Append(Html.Escape(cell.Source)).Append("</pre></div>\n");
                continue;
            }
            var count = cell.Json["execution_count"]?.GetValue<int>();
            html.Append("<div class=\"cell code\"><div class=\"count\">[").Append(count?.ToString(CultureInfo.InvariantCulture) ?? " ")
                .Append("]</div><pre class=\"source\"><code>").Append(Html.Escape(cell.Source)).Append("</code></pre>\n");
            if (cell.Json["outputs"] is JsonArray { Count: > 0 } outputs)
            {
                html.Append("<div class=\"output\">");
                foreach (var output in outputs.OfType<JsonObject>()) AppendOutput(html, output);
                html.Append("</div>");
            }
            html.Append("</div>\n");
        }
        html.Append("</section>\n");
    }

    static void AppendOutput(StringBuilder html, JsonObject output)
    {
        switch (output["output_type"]?.GetValue<string>())
        {
            case "stream":
                var name = output["name"]?.GetValue<string>() == "stderr" ? "stderr" : "stdout";
                html.Append("<pre class=\"").Append(name).Append("\">").Append(Html.Escape(Text(output["text"]))).Append("</pre>");
                break;
            case "error":
                var traceback = output["traceback"] is JsonArray lines ? string.Join("\n", lines.Select(l => l?.GetValue<string>())) : "";
                html.Append("<pre class=\"error\">").Append(Html.Escape($"{output["ename"]}: {output["evalue"]}\n{traceback}")).Append("</pre>");
                break;
            default:
                var data = output["data"] as JsonObject ?? [];
                if (data[MimeBundle.Html] is { } htmlContent) html.Append("<div>").Append(Text(htmlContent)).Append("</div>");
                else if (data[MimeBundle.Png] is { } png) html.Append("<img alt=\"output\" src=\"data:image/png;base64,").Append(Text(png).Trim()).Append("\"/>");
                else html.Append("<pre>").Append(Html.Escape(Text(data[MimeBundle.PlainText]))).Append("</pre>");
                break;
        }
    }

    static string Text(JsonNode? node) => node switch
    {
        JsonArray lines => string.Concat(lines.Select(l => l?.GetValue<string>())),
        JsonValue value => value.GetValue<string>(),
        _ => "",
    };
}
