using Microsoft.DotNet.Interactive.Formatting;
using NotebookTrainer.Display;
using NotebookTrainer.Progress;
using NotebookTrainer.Runtime;
using SkiaSharp;

namespace NotebookTrainer.Tests.Display;

/// <summary>
/// Runs the real Polyglot kernel formatter (Microsoft.DotNet.Interactive.Formatting) over our types: it must find
/// our formatters by convention, and after <see cref="PolyglotFormatters.RegisterWithKernel"/> also for types we do
/// not own. The formatter is process-wide state, so every test starts from its defaults.
/// </summary>
public sealed class PolyglotKernelFormattingTests
{
    sealed record Caption(string Text) : IHtmlRenderable
    {
        public string ToHtml() => "<q>" + NotebookTrainer.Display.Html.Escape(Text) + "</q>";
    }

    [Fact]
    public void The_kernel_discovers_our_formatter_source_by_attribute_name()
    {
        Formatter.ResetToDefault();

        var progress = Formatter.ToDisplayString(new ProgressUpdate("tagging <images>", 1, 4, 2, null), "text/html");
        Assert.Equal(MimeRenderer.ProgressHtml(new ProgressUpdate("tagging <images>", 1, 4, 2, null)), progress);

        var environment = Formatter.ToDisplayString(EnvironmentReport.Collect(Path.GetTempPath()), "text/html");
        Assert.StartsWith("<div class=\"nt-environment\">", environment);
    }

    [Fact]
    public void Registering_with_the_kernel_covers_html_renderables_charts_and_images()
    {
        Formatter.ResetToDefault();
        Assert.True(PolyglotFormatters.RegisterWithKernel());

        Assert.Equal("<q>a &lt;b&gt;</q>", Formatter.ToDisplayString(new Caption("a <b>"), "text/html"));

        using var bitmap = new SKBitmap(2, 2);
        Assert.StartsWith("<img alt=\"image\" src=\"data:image/png;base64,", Formatter.ToDisplayString(bitmap, "text/html"));

        var chart = new Chart([new LineTrace("loss", [1, 2], [3, 4])]);
        var html = Formatter.ToDisplayString(chart, "text/html");
        Assert.Contains("newPlot('nt-chart-", html);
        Assert.Contains("\"y\":[3,4]", html);
        Formatter.ResetToDefault();
    }
}
