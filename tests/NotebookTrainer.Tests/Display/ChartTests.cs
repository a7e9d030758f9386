using System.Text.Json.Nodes;
using NotebookTrainer.Display;

namespace NotebookTrainer.Tests.Display;

public sealed class ChartTests
{
    [Fact]
    public void The_figure_has_the_traces_axis_titles_and_the_plotly_template()
    {
        var chart = new Chart(
        [
            new LineTrace("loss", [1, 2, 3], [0.5, 0.25, 0.125], Opacity: 0.35),
            new LineTrace("EMA 0.9", [1, 2, 3], [0.5, 0.4, 0.3]),
        ], XAxisTitle: "step", YAxisTitle: "loss");

        var figure = JsonNode.Parse(chart.FigureJson())!;
        var data = figure["data"]!.AsArray();
        Assert.Equal(2, data.Count);
        Assert.Equal(("scatter", "lines", "loss", 0.35), (data[0]!["type"]!.GetValue<string>(), data[0]!["mode"]!.GetValue<string>(),
            data[0]!["name"]!.GetValue<string>(), data[0]!["opacity"]!.GetValue<double>()));
        Assert.Null(data[1]!["opacity"]);
        Assert.Equal([1.0, 2, 3], data[0]!["x"]!.AsArray().Select(v => v!.GetValue<double>()));
        Assert.Equal([0.5, 0.4, 0.3], data[1]!["y"]!.AsArray().Select(v => v!.GetValue<double>()));
        var layout = figure["layout"]!;
        Assert.Equal("step", layout["xaxis"]!["title"]!["text"]!.GetValue<string>());
        Assert.Equal("loss", layout["yaxis"]!["title"]!["text"]!.GetValue<string>());
        Assert.Equal((600, 600), (layout["width"]!.GetValue<int>(), layout["height"]!.GetValue<int>()));
        Assert.Equal("#e5ecf6", layout["template"]!["layout"]!["plot_bgcolor"]!.GetValue<string>());
        Assert.Equal(10, layout["template"]!["layout"]!["colorway"]!.AsArray().Count);
    }

    [Fact]
    public void Bars_have_category_labels_and_untitled_axes_are_left_out()
    {
        var figure = JsonNode.Parse(new Chart([new BarTrace("images × repeats", ["512x512", "384x640"], [80, 30])]).FigureJson())!;
        var bars = figure["data"]![0]!;
        Assert.Equal("bar", bars["type"]!.GetValue<string>());
        Assert.Equal("images × repeats", bars["name"]!.GetValue<string>());
        Assert.Equal(["512x512", "384x640"], bars["x"]!.AsArray().Select(v => v!.GetValue<string>()));
        Assert.Equal([80.0, 30], bars["y"]!.AsArray().Select(v => v!.GetValue<double>()));
        Assert.Null(figure["layout"]!["xaxis"]);
        Assert.Null(figure["layout"]!["yaxis"]);
    }

    [Fact]
    public void A_diverged_loss_becomes_a_gap_instead_of_invalid_json()
    {
        var figure = JsonNode.Parse(new Chart([new LineTrace("loss", [1, 2, 3, 4], [0.5, double.NaN, double.PositiveInfinity, 0.25])]).FigureJson())!;
        Assert.Equal([0.5, null, null, 0.25], figure["data"]![0]!["y"]!.AsArray().Select(v => v?.GetValue<double>()));
    }

    [Fact]
    public void Trace_names_cannot_close_the_script_that_draws_the_chart()
    {
        var html = new Chart([new LineTrace("</script><script>alert(1)</script>", [1], [1])], XAxisTitle: "a & <b>").ToHtml();
        Assert.Single(System.Text.RegularExpressions.Regex.Matches(html, "</script>"));
        Assert.DoesNotContain("<b>", html);
        Assert.Contains("\\u003C/script\\u003E", html);
    }

    [Fact]
    public void Plain_text_names_the_traces() =>
        Assert.Equal("chart: loss, moving average", MimeRenderer.Render(new Chart([new LineTrace("loss", [1], [1]), new LineTrace("moving average", [1], [1])])).Text);
}
