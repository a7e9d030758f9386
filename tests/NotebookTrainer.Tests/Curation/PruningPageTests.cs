using System.Net;
using System.Net.Http.Json;
using NotebookTrainer.Curation;

namespace NotebookTrainer.Tests.Curation;

public class PruningPageTests
{
    [Fact]
    public async Task Prune_a_tag_edit_one_image_and_undo_in_a_real_browser()
    {
        using var f = new CurationTestFolder(
            ("000", "sks, red circle, watermark, white background"),
            ("001", "sks, blue square, watermark"),
            ("002", "sks, red circle, <b>bold</b>"));
        await using var server = await PruningServer.StartAsync(f.Path);
        await using var browser = await Chromium.LaunchAsync();

        await browser.NavigateAsync(server.Url.ToString());
        await browser.WaitForAsync("document.body.dataset.ready === 'true' && document.querySelectorAll('#tags li').length === 6", "the tag list");

        // Tags from captions are shown as text, never parsed as HTML.
        Assert.Equal(0, (await browser.EvaluateAsync("document.querySelectorAll('#tags b').length")).GetInt32());
        Assert.Equal("<b>bold</b>", (await browser.EvaluateAsync("document.querySelector('#tags li[data-tag=\"<b>bold</b>\"] button.tag').firstChild.textContent")).GetString());

        // Prune "watermark" everywhere.
        await browser.ClickAsync(Chromium.Selector("#tags li", "data-tag", "watermark") + " button.tag");
        await browser.WaitForAsync("document.querySelectorAll('#images .image').length === 2", "the two watermark images");
        await browser.ClickAsync("#prune");
        await browser.WaitForAsync("!document.querySelector('#tags li[data-tag=\"watermark\"]')", "watermark to leave the tag list");
        Assert.Equal("sks, red circle, white background\n", f.Read("000"));
        Assert.Equal("sks, blue square\n", f.Read("001"));

        // Edit one image: remove "red circle" from 002 and add "red disc".
        await browser.ClickAsync(Chromium.Selector("#tags li", "data-tag", "red circle") + " button.tag");
        await browser.WaitForAsync("document.querySelectorAll('#images .image').length === 2", "the red circle images");
        await browser.TypeAsync(Chromium.Selector("#images .image", "data-name", "002.png") + " input.add-tag", "red disc");
        await browser.ClickAsync(Chromium.Selector("#images .image", "data-name", "002.png") + " button.add");
        await browser.WaitForAsync("document.querySelector('#tags li[data-tag=\"red disc\"]')", "the new tag");
        Assert.Equal("sks, red circle, <b>bold</b>, red disc\n", f.Read("002"));
        await browser.ClickAsync(Chromium.Selector("#images .image", "data-name", "002.png") + " " + Chromium.Selector(".chip", "data-tag", "red circle") + " button.remove");
        await browser.WaitForAsync("document.querySelectorAll('#images .image').length === 1", "002 to drop out of the red circle images");
        Assert.Equal("sks, <b>bold</b>, red disc\n", f.Read("002"));

        // Undo twice: the per-image edits come back off, the prune stays.
        await browser.ClickAsync("#undo");
        await browser.WaitForAsync("document.querySelectorAll('#images .image').length === 2", "undo of the removal");
        Assert.Equal("sks, red circle, <b>bold</b>, red disc\n", f.Read("002"));
        await browser.ClickAsync("#undo");
        await browser.WaitForAsync("!document.querySelector('#tags li[data-tag=\"red disc\"]')", "undo of the addition");
        Assert.Equal("sks, red circle, <b>bold</b>", f.Read("002"));
        Assert.Equal("sks, blue square\n", f.Read("001"));
        Assert.Contains("remove 'watermark'", (await browser.EvaluateAsync("document.getElementById('undo').title")).GetString());

        // Redo from the page re-applies the addition.
        await browser.ClickAsync("#redo");
        await browser.WaitForAsync("document.querySelector('#tags li[data-tag=\"red disc\"]')", "redo");
        Assert.Equal("sks, red circle, <b>bold</b>, red disc\n", f.Read("002"));
    }

    [Fact]
    public async Task Every_request_needs_the_session_token()
    {
        using var f = new CurationTestFolder(("000", "a"));
        await using var server = await PruningServer.StartAsync(f.Path);
        Assert.Equal("127.0.0.1", server.Url.Host);
        using var http = new HttpClient();
        var bare = new Uri(server.Url.GetLeftPart(UriPartial.Authority));
        Assert.Equal(HttpStatusCode.Forbidden, (await http.GetAsync(bare)).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await http.GetAsync(new Uri(bare, "/api/state?token=wrong"))).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await http.PostAsync(new Uri(bare, "/api/undo"), null)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync(server.Url)).StatusCode);
        var request = new HttpRequestMessage(HttpMethod.Get, new Uri(bare, "/api/state"));
        request.Headers.Add("X-Ntrain-Token", server.Token);
        Assert.Contains("\"images\":1", await (await http.SendAsync(request)).Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Replace_and_merge_everywhere_through_the_api_share_the_journal()
    {
        using var f = new CurationTestFolder(("000", "sks, kitty, cat"), ("001", "sks, feline"), ("002", "sks, dog"));
        await using var server = await PruningServer.StartAsync(f.Path);
        using var http = new HttpClient { BaseAddress = new Uri(server.Url.GetLeftPart(UriPartial.Authority)) };
        http.DefaultRequestHeaders.Add("X-Ntrain-Token", server.Token);

        var merge = await http.PostAsync("/api/merge", JsonContent.Create(new { tags = new[] { "kitty", "feline" }, into = "cat" }));
        Assert.Equal(HttpStatusCode.OK, merge.StatusCode);
        Assert.Equal("sks, cat\n", f.Read("000"));
        Assert.Equal("sks, cat\n", f.Read("001"));

        Assert.Equal(HttpStatusCode.OK, (await http.PostAsync("/api/replace", JsonContent.Create(new { tag = "dog", with = "puppy" }))).StatusCode);
        Assert.Equal("sks, puppy\n", f.Read("002"));

        var missing = await http.PostAsync("/api/image", JsonContent.Create(new { name = "nope.png", add = new[] { "x" } }));
        Assert.Equal(HttpStatusCode.BadRequest, missing.StatusCode);
        Assert.Contains("no such image", await missing.Content.ReadAsStringAsync());

        File.WriteAllText(f.Caption("002"), "hand edit");
        var conflict = await http.PostAsync("/api/undo", null);
        Assert.Equal(HttpStatusCode.Conflict, conflict.StatusCode);
        Assert.Equal("hand edit", f.Read("002"));
        File.WriteAllText(f.Caption("002"), "sks, puppy\n");

        Assert.Equal(HttpStatusCode.OK, (await http.PostAsync("/api/undo", null)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await http.PostAsync("/api/undo", null)).StatusCode);
        Assert.Equal("sks, kitty, cat", f.Read("000"));
        Assert.Equal("sks, dog", f.Read("002"));
        var state = await http.GetStringAsync("/api/state");
        Assert.Contains("\"redo\":\"merge", state);
    }

    [Fact]
    public async Task A_second_pruning_page_on_the_same_folder_is_refused()
    {
        using var f = new CurationTestFolder(("000", "a"));
        await using var first = await PruningServer.StartAsync(f.Path);
        var e = await Assert.ThrowsAsync<CurationLockedException>(() => PruningServer.StartAsync(f.Path));
        Assert.Contains("pruning page", e.Message);
        await first.StopAsync();
    }
}
