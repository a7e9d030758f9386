using System.Text.Json;

namespace NotebookTrainer.Acquisition;

/// <summary>
/// Gelbooru-style DAPI: <c>GET /index.php?page=dapi&amp;s=post&amp;q=index&amp;json=1&amp;tags=…&amp;limit=…&amp;pid=…</c>
/// returning <c>{"post": [...]}</c> (or a bare array on older installs) with <c>file_url</c>, space-separated
/// <c>tags</c>, <c>rating</c> (general/sensitive/questionable/explicit or s/q/e) and <c>md5</c>.
/// </summary>
public sealed class GelbooruSource(HttpClient http, Uri baseUri, int pageSize = 100) : IBooruSource
{
    public async Task<IReadOnlyList<BooruPost>> SearchAsync(BooruQuery query, CancellationToken cancellation = default)
    {
        var posts = new List<BooruPost>();
        var tags = string.Join(' ', query.Tags.Concat((query.Exclude ?? []).Select(t => "-" + t)));
        for (int pid = 0; posts.Count < query.Limit; pid++)
        {
            var url = new Uri(baseUri, $"index.php?page=dapi&s=post&q=index&json=1&tags={Uri.EscapeDataString(tags)}&limit={pageSize}&pid={pid}");
            using var doc = await BooruHttp.GetJsonAsync(http, url, cancellation);
            var list = doc.RootElement.ValueKind switch
            {
                JsonValueKind.Array => doc.RootElement,
                JsonValueKind.Object when doc.RootElement.TryGetProperty("post", out var p) => p,
                JsonValueKind.Object => default,   // no "post" key: no results
                _ => throw new InvalidDataException($"{url}: expected JSON posts; is this a Gelbooru-style site?"),
            };
            if (list.ValueKind != JsonValueKind.Array) break;
            int received = 0;
            foreach (var p in list.EnumerateArray())
            {
                received++;
                if (BooruHttp.Str(p, "file_url") is not { Length: > 0 } file) continue;
                var rating = (BooruHttp.Str(p, "rating") ?? "questionable") switch
                {
                    "general" or "g" => BooruRating.General,
                    "sensitive" or "s" or "safe" => BooruRating.Sensitive,
                    "explicit" or "e" => BooruRating.Explicit,
                    _ => BooruRating.Questionable,
                };
                var post = new BooruPost(p.GetProperty("id").GetInt64(), file, (BooruHttp.Str(p, "tags") ?? "").Split(' ', StringSplitOptions.RemoveEmptyEntries), rating, BooruHttp.Str(p, "md5"));
                if (BooruHttp.Matches(post, query)) posts.Add(post);
                if (posts.Count == query.Limit) break;
            }
            if (received < pageSize) break;
        }
        return posts;
    }
}

static class BooruHttp
{
    public static async Task<JsonDocument> GetJsonAsync(HttpClient http, Uri url, CancellationToken cancellation)
    {
        using var response = await http.GetAsync(url, cancellation);
        if (!response.IsSuccessStatusCode)
            throw new HttpRequestException($"{url.GetLeftPart(UriPartial.Path)}: the site answered {(int)response.StatusCode} ({response.StatusCode}).", null, response.StatusCode);
        var body = await response.Content.ReadAsStringAsync(cancellation);
        try { return JsonDocument.Parse(body.Length == 0 ? "[]" : body); }
        catch (JsonException e) { throw new InvalidDataException($"{url.GetLeftPart(UriPartial.Path)}: the answer is not JSON ({e.Message}); the site may be down or rate-limiting.", e); }
    }

    public static string? Str(JsonElement e, string name) => e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    public static bool Matches(BooruPost post, BooruQuery query) =>
        query.Tags.All(post.Tags.Contains)
        && !(query.Exclude ?? []).Any(post.Tags.Contains)
        && (query.Ratings is null || query.Ratings.Contains(post.Rating));
}
