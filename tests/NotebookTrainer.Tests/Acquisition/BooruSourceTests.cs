using System.Text;
using System.Text.Json;
using NotebookTrainer.Acquisition;

namespace NotebookTrainer.Tests.Acquisition;

public class BooruSourceTests
{
    static byte[] Json(object value) => Encoding.UTF8.GetBytes(JsonSerializer.Serialize(value));

    [Fact]
    public async Task DanbooruSearchPagesFiltersExclusionsAndRatings()
    {
        object Post(int id, string tags, string rating, bool file = true) =>
            file ? new { id, file_url = $"http://127.0.0.1/{id}.png", tag_string = tags, rating, md5 = $"m{id}" } : new { id, tag_string = tags, rating };
        using var server = new LoopbackRouteServer(r => r.QueryString["page"] switch
        {
            "1" => (200, "application/json", Json(new[] { Post(1, "1girl solo red_hair", "g"), Post(2, "1girl solo monochrome", "g"), Post(3, "1girl solo", "e") })),
            "2" => (200, "application/json", Json(new[] { Post(4, "1girl solo smile", "s", file: false), Post(5, "1girl solo smile", "s") })),
            _ => (200, "application/json", Json(Array.Empty<object>())),
        });
        using var http = new HttpClient();
        var source = new DanbooruSource(http, server.BaseUri, pageSize: 3);
        var query = BooruQuery.Parse("1girl solo -monochrome", limit: 10, new HashSet<BooruRating> { BooruRating.General, BooruRating.Sensitive });

        var posts = await source.SearchAsync(query);
        Assert.Equal(new long[] { 1, 5 }, posts.Select(p => p.Id));
        Assert.Equal("1girl, solo, red hair", posts[0].Caption());
        Assert.Contains("tags=1girl%20solo", server.Requests[0]);
    }

    [Fact]
    public async Task GelbooruSearchSendsExclusionsAndReadsBothShapes()
    {
        using var server = new LoopbackRouteServer(r => r.QueryString["pid"] switch
        {
            "0" => (200, "application/json", Json(new { post = new[] { new { id = 7, file_url = "http://h/7.jpg", tags = "cat solo", rating = "general", md5 = "x" } } })),
            _ => (200, "application/json", Json(new { })),
        });
        using var http = new HttpClient();
        var posts = await new GelbooruSource(http, server.BaseUri, pageSize: 1).SearchAsync(BooruQuery.Parse("cat -dog", limit: 5));
        Assert.Single(posts);
        Assert.Equal(BooruRating.General, posts[0].Rating);
        Assert.Contains("tags=cat%20-dog", server.Requests[0]);
    }

    [Fact]
    public async Task ErrorsAndNonJsonAreExplained()
    {
        using var server = new LoopbackRouteServer(r => r.Url!.AbsolutePath.Contains("posts")
            ? (429, "text/plain", "slow down"u8.ToArray())
            : (200, "text/html", "<html>cloudflare</html>"u8.ToArray()));
        using var http = new HttpClient();
        var limited = await Assert.ThrowsAsync<HttpRequestException>(() => new DanbooruSource(http, server.BaseUri).SearchAsync(BooruQuery.Parse("a")));
        Assert.Contains("429", limited.Message);
        var html = await Assert.ThrowsAsync<InvalidDataException>(() => new GelbooruSource(http, server.BaseUri).SearchAsync(BooruQuery.Parse("a")));
        Assert.Contains("not JSON", html.Message);
    }
}
