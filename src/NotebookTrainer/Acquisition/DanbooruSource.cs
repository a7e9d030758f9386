using System.Text.Json;

namespace NotebookTrainer.Acquisition;

/// <summary>
/// Danbooru-style API: <c>GET /posts.json?tags=…&amp;limit=…&amp;page=…</c> returning an array of posts with
/// <c>file_url</c>, <c>tag_string</c>, <c>rating</c> (g/s/q/e) and <c>md5</c>. Anonymous users may combine only
/// two tags, so exclusions and ratings beyond that are filtered client-side.
/// </summary>
public sealed class DanbooruSource(HttpClient http, Uri baseUri, int pageSize = 100) : IBooruSource
{
    public async Task<IReadOnlyList<BooruPost>> SearchAsync(BooruQuery query, CancellationToken cancellation = default)
    {
        var posts = new List<BooruPost>();
        var serverTags = string.Join(' ', query.Tags.Take(2));
        for (int page = 1; posts.Count < query.Limit; page++)
        {
            var url = new Uri(baseUri, $"posts.json?tags={Uri.EscapeDataString(serverTags)}&limit={pageSize}&page={page}");
            using var doc = await BooruHttp.GetJsonAsync(http, url, cancellation);
            if (doc.RootElement.ValueKind != JsonValueKind.Array)
                throw new InvalidDataException($"{url}: expected a JSON array of posts; is this a Danbooru-style site?");
            int received = 0;
            foreach (var p in doc.RootElement.EnumerateArray())
            {
                received++;
                if (BooruHttp.Str(p, "file_url") is not { } file) continue;   // deleted or restricted posts have none
                var tags = (BooruHttp.Str(p, "tag_string") ?? "").Split(' ', StringSplitOptions.RemoveEmptyEntries);
                var rating = (BooruHttp.Str(p, "rating") ?? "q") switch { "g" => BooruRating.General, "s" => BooruRating.Sensitive, "e" => BooruRating.Explicit, _ => BooruRating.Questionable };
                var post = new BooruPost(p.GetProperty("id").GetInt64(), file, tags, rating, BooruHttp.Str(p, "md5"));
                if (BooruHttp.Matches(post, query)) posts.Add(post);
                if (posts.Count == query.Limit) break;
            }
            if (received < pageSize) break;
        }
        return posts;
    }
}
