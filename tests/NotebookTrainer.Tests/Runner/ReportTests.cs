using System.Text.RegularExpressions;
using NotebookTrainer.Runner.Report;

namespace NotebookTrainer.Tests.Runner;

[Collection(RunnerCollection.Name)]
public sealed class ReportTests : IDisposable
{
    readonly RunnerWorkspace workspace = new();

    public void Dispose() => workspace.Dispose();

    [Fact]
    public async Task The_report_is_one_self_contained_page_with_markdown_code_and_outputs()
    {
        var (result, log) = await workspace.RunAsync("basics");
        Assert.True(result.ExitCode == 0, $"{result.Error}\n{log}");
        (result, log) = await workspace.RunAsync("rich");
        Assert.True(result.ExitCode == 0, $"{result.Error}\n{log}");

        var report = workspace.Report;
        Assert.Empty(Regex.Matches(report, @"<(script|img|iframe)[^>]*\ssrc\s*=\s*[""']?(https?:)?//", RegexOptions.IgnoreCase));
        Assert.Empty(Regex.Matches(report, @"<link[^>]*href\s*=\s*[""']?(https?:)?//", RegexOptions.IgnoreCase));
        // plotly.js is embedded once, so charts never reach for the CDN fallback (the browser test proves it offline).
        var banner = NotebookTrainer.Display.PlotlyJs.Source()[..NotebookTrainer.Display.PlotlyJs.Source().IndexOf('\n', 5)];
        Assert.Single(Regex.Matches(report, Regex.Escape(banner)));
        Assert.True(report.IndexOf(banner, StringComparison.Ordinal) < report.IndexOf("<body>", StringComparison.Ordinal), "plotly.js must load in <head>, before the charts");
        Assert.Contains("P.newPlot('nt-chart-", report);
        Assert.Contains("data:image/png;base64,", report);
        Assert.Contains("<progress", report);
    }

    /// <summary>Opens the report in headless Chromium with no network and checks that plotly.js drew the chart.</summary>
    [Fact]
    public async Task The_report_draws_its_charts_offline_in_a_browser()
    {
        var (result, log) = await workspace.RunAsync("rich");
        Assert.True(result.ExitCode == 0, $"{result.Error}\n{log}");

        const string chromium = "/usr/bin/chromium";
        Assert.True(File.Exists(chromium), $"{chromium} is missing: apt-get install chromium (CI installs it in .ci/run).");
        var start = new System.Diagnostics.ProcessStartInfo(chromium) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in new[] { "--headless", "--no-sandbox", "--disable-gpu", "--proxy-server=127.0.0.1:9", "--virtual-time-budget=5000", "--dump-dom" })
            start.ArgumentList.Add(arg);
        start.ArgumentList.Add(new Uri(Path.Combine(workspace.Output, "report.html")).AbsoluteUri);
        using var browser = System.Diagnostics.Process.Start(start)!;
        var stderr = browser.StandardError.ReadToEndAsync();
        var dom = await browser.StandardOutput.ReadToEndAsync();
        await browser.WaitForExitAsync();

        Assert.True(browser.ExitCode == 0, await stderr);
        // plotly.js replaces each empty chart div with its SVG layers: the line chart and the bar chart (the
        // embedded basic bundle has both trace types).
        Assert.Equal(2, Regex.Matches(dom, @"<div id=""nt-chart-\w+""[^>]*class=""[^""]*js-plotly-plot").Count);
        Assert.Contains("class=\"main-svg\"", dom);
        Assert.Contains("class=\"scatterlayer", dom);
        Assert.Contains("class=\"barlayer", dom);
        Assert.Matches(new Regex(@"class=""point""><path d=""M"), dom);
    }

    [Fact]
    public async Task Markdown_is_rendered_and_notebook_text_is_escaped_in_the_report()
    {
        var (result, log) = await workspace.RunAsync("basics/01-cells.ipynb");
        Assert.True(result.ExitCode == 0, $"{result.Error}\n{log}");

        var report = workspace.Report;
        Assert.Contains("<h1>Basics &lt;script&gt;alert(&#39;md&#39;)&lt;/script&gt;</h1>", report);
        Assert.Contains("<strong>bold</strong>", report);
        Assert.Contains("<li>second item</li>", report);
        Assert.Contains("<pre><code>var fenced = &quot;&lt;i&gt;&quot;;</code></pre>", report);
        Assert.Contains("<pre class=\"stderr\">careful on stderr\n</pre>", report);
        Assert.Contains("answer += 2;", report);
        Assert.DoesNotContain("<script>alert", report);
        Assert.DoesNotContain("plotly.js", report);
    }

    [Theory]
    [InlineData("# Title", "<h1>Title</h1>\n")]
    [InlineData("### Three ###", "<h3>Three</h3>\n")]
    [InlineData("one\ntwo\n\nthree", "<p>one two</p>\n<p>three</p>\n")]
    [InlineData("- a\n- b\n\n1. c\n2. d", "<ul>\n<li>a</li>\n<li>b</li>\n</ul>\n<ol>\n<li>c</li>\n<li>d</li>\n</ol>\n")]
    [InlineData("- item\n  continued", "<ul>\n<li>item continued</li>\n</ul>\n")]
    [InlineData("```csharp\nif (a < b) {}\n```", "<pre><code>if (a &lt; b) {}</code></pre>\n")]
    [InlineData("Use `x * y` and **strong** or _em_ or *em*", "<p>Use <code>x * y</code> and <strong>strong</strong> or <em>em</em> or <em>em</em></p>\n")]
    [InlineData("[docs](https://example.org/?a=1&b=2) and [local](02-dataset.ipynb)", "<p><a href=\"https://example.org/?a=1&amp;b=2\">docs</a> and <a href=\"02-dataset.ipynb\">local</a></p>\n")]
    [InlineData("[click](javascript:alert(1))", "<p>click)</p>\n")]
    [InlineData("snake_case_name stays", "<p>snake_case_name stays</p>\n")]
    [InlineData("> quoted <tag>", "<blockquote>quoted &lt;tag&gt;</blockquote>\n")]
    [InlineData("---", "<hr/>\n")]
    public void Markdown_subset_converts_to_escaped_html(string markdown, string html) =>
        Assert.Equal(html, Markdown.ToHtml(markdown));
}
