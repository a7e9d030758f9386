using System.Text.RegularExpressions;

namespace NotebookTrainer.Downloads;

/// <summary>
/// A URL as users paste it, turned into the one that serves the file, plus the environment variable that
/// holds the host's access token. Hugging Face page links (<c>/blob/</c>) become file links (<c>/resolve/</c>);
/// Civitai links must name a model version, because a model page alone does not say which file to fetch.
/// </summary>
public sealed partial record DownloadSource(Uri Uri, string? TokenVariable)
{
    public static DownloadSource Parse(string url)
    {
        if (!Uri.TryCreate(url.Trim(), UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
            throw new DownloadException($"'{Redact(url)}' is not an http(s) URL. Paste the full link, starting with https://.");

        var host = uri.Host.ToLowerInvariant();
        if (host is "huggingface.co" or "www.huggingface.co" or "hf.co")
        {
            var path = HuggingFaceBlob().Replace(uri.AbsolutePath, "/resolve/", 1);
            return new DownloadSource(new UriBuilder(uri) { Path = path }.Uri, "HF_TOKEN");
        }
        if (host is "civitai.com" or "www.civitai.com")
            return new DownloadSource(CivitaiDownloadUri(uri), "CIVITAI_TOKEN");
        return new DownloadSource(uri, null);
    }

    static Uri CivitaiDownloadUri(Uri uri)
    {
        if (uri.AbsolutePath.StartsWith("/api/download/models/", StringComparison.Ordinal))
            return uri;
        var version = Regex.Match(uri.Query, @"(?:^|[?&])modelVersionId=(\d+)");
        if (version.Success)
            return new Uri($"https://civitai.com/api/download/models/{version.Groups[1].Value}");
        throw new DownloadException(
            $"The Civitai link '{uri}' names a model but not a version, so it does not say which file to download. " +
            "On the model page pick the version, then copy its download link (https://civitai.com/api/download/models/<versionId>) " +
            "or a page link containing ?modelVersionId=<versionId>.");
    }

    /// <summary>The URL with query values that look like credentials hidden, for messages and logs.</summary>
    public static string Redact(string url) => SecretQuery().Replace(url, "$1=***");

    [GeneratedRegex("/blob/")]
    private static partial Regex HuggingFaceBlob();

    [GeneratedRegex(@"((?:token|key|api_key|apikey|signature|sig)[^=&]*)=[^&]*", RegexOptions.IgnoreCase)]
    private static partial Regex SecretQuery();
}
