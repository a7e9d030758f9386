using System.Reflection;
using NotebookTrainer.Display;
using NotebookTrainer.Progress;
using SkiaSharp;
using TorchSharp;

namespace NotebookTrainer.Tests.Display;

public sealed class MimeRendererTests
{
    sealed record UserTag(string Name) : IHtmlRenderable
    {
        public string ToHtml() => "<span>" + Html.Escape(Name) + "</span>";
    }

    [Fact]
    public void Html_renderables_keep_their_html_and_get_plain_text()
    {
        var bundle = MimeRenderer.Render(new UserTag("<img onerror=x>"));
        Assert.Equal("<span>&lt;img onerror=x&gt;</span>", bundle.Get(MimeBundle.Html));
        Assert.Equal("UserTag { Name = <img onerror=x> }", bundle.Text);
    }

    [Fact]
    public void Progress_updates_become_an_escaped_progress_bar_with_rate_and_eta()
    {
        var html = MimeRenderer.Render(new ProgressUpdate("tag <images>", 25, 100, 12.5, TimeSpan.FromSeconds(6), "a&b")).Get(MimeBundle.Html)!;
        Assert.Contains("<progress style=\"width:24em\" max=\"100\" value=\"25\"></progress>", html);
        Assert.Contains("tag &lt;images&gt;: 25/100 (25 %), 12.50/s, ETA 0:06 — a&amp;b", html);
    }

    [Fact]
    public void Images_become_png_and_tensors_and_other_values_plain_text()
    {
        using var bitmap = new SKBitmap(3, 2);
        bitmap.Erase(SKColors.Red);
        var png = MimeRenderer.Render(bitmap);
        using (var decoded = SKBitmap.Decode(Convert.FromBase64String(png.Get(MimeBundle.Png)!)))
            Assert.Equal(SKColors.Red, decoded.GetPixel(2, 1));
        Assert.Null(png.Get(MimeBundle.Html));

        using var tensor = torch.tensor(new long[] { 7, 8 });
        Assert.Equal(tensor.ToString(TensorStringStyle.Default), MimeRenderer.Render(tensor).Text);
        Assert.Equal(["text/plain"], MimeRenderer.Render(1.5).Data.Keys);
        Assert.Equal("<null>", MimeRenderer.Render(null).Text);
        Assert.Equal("[1, 2, 3]", MimeRenderer.Render(new List<int> { 1, 2, 3 }).Text);
        Assert.Equal("[[a, 1], [b, 2]]", MimeRenderer.Render(new[] { new object[] { "a", 1 }, new object[] { "b", 2 } }).Text);
        Assert.EndsWith(", 99, …]", MimeRenderer.Render(Enumerable.Range(0, 500)).Text);
    }

    [Fact]
    public void Html_tables_render_as_html_and_still_convert_to_their_markup()
    {
        var table = Html.Table(["edit", "captions"], [new object[] { "<remove>", 3 }]);
        var bundle = MimeRenderer.Render(table);
        Assert.Equal("<table class=\"nt-table\"><thead><tr><th>edit</th><th>captions</th></tr></thead><tbody><tr><td>&lt;remove&gt;</td><td>3</td></tr></tbody></table>",
            bundle.Get(MimeBundle.Html));
        string markup = table;
        Assert.Equal(bundle.Get(MimeBundle.Html), markup);
        Assert.Equal(markup, "" + table);
    }

    [Fact]
    public void Charts_render_their_figure_and_use_the_pages_plotly_js()
    {
        var chart = new Chart([new LineTrace("loss", [1, 2], [3, 4])]);
        var bundle = MimeRenderer.Render(chart);
        Assert.Contains("\"y\":[3,4]", bundle.Get(MimeBundle.PlotlyJson));
        var html = bundle.Get(MimeBundle.Html)!;
        Assert.Contains("P.newPlot('nt-chart-", html);
        Assert.True(html.Length < 50_000, $"chart HTML is {html.Length} characters");
        Assert.Contains("if (window.Plotly) { draw(window.Plotly); }", html);
        Assert.Contains($"cdn.plot.ly/plotly-{PlotlyJs.Version}.min", html);
        Assert.StartsWith("/**", PlotlyJs.Source());
        Assert.Matches(@"^\d+\.\d+\.\d+$", PlotlyJs.Version);
    }

    /// <summary>Discovers formatters exactly as the Polyglot kernel does: by attribute name and member names, via reflection.</summary>
    [Fact]
    public void The_kernel_convention_finds_our_formatters_by_name()
    {
        var attribute = typeof(ProgressUpdate).GetCustomAttributes(true).Single(a => a.GetType().Name == "TypeFormatterSourceAttribute");
        var sourceType = (Type)attribute.GetType().GetProperty("FormatterSourceType")!.GetValue(attribute)!;
        var source = Activator.CreateInstance(sourceType)!;
        var formatters = ((System.Collections.IEnumerable)sourceType.GetMethod("CreateTypeFormatters")!.Invoke(source, null)!).Cast<object>().ToList();

        object? Find(Type type) => formatters.FirstOrDefault(f => (Type)f.GetType().GetProperty("Type")!.GetValue(f)! == type);
        bool Format(object formatter, object value, StringWriter writer) =>
            (bool)formatter.GetType().GetMethod("Format", [typeof(object), typeof(TextWriter)])!.Invoke(formatter, [value, writer])!;

        foreach (var formatter in formatters)
            Assert.Equal("text/html", formatter.GetType().GetProperty("MimeType")!.GetValue(formatter));

        var html = new StringWriter();
        Assert.True(Format(Find(typeof(IHtmlRenderable))!, new UserTag("<x>"), html));
        Assert.Equal("<span>&lt;x&gt;</span>", html.ToString());
        Assert.False(Format(Find(typeof(IHtmlRenderable))!, "not renderable", new StringWriter()));

        using var bitmap = new SKBitmap(1, 1);
        var image = new StringWriter();
        Assert.True(Format(Find(typeof(SKBitmap))!, bitmap, image));
        Assert.StartsWith("<img alt=\"image\" src=\"data:image/png;base64,", image.ToString());
        Assert.True(Format(Find(typeof(IHtmlRenderable))!, new Chart([new BarTrace("n", ["a"], [1])]), new StringWriter()));
        Assert.Equal(["text/html"], (string[])attribute.GetType().GetProperty("PreferredMimeTypes")!.GetValue(attribute)!);
    }
}
