using NotebookTrainer.Downloads;

namespace NotebookTrainer.Tests.Downloads;

public class DownloadSourceTests
{
    [Fact]
    public void HuggingFaceBlobLinksBecomeResolveLinks()
    {
        var source = DownloadSource.Parse("https://huggingface.co/stable-diffusion-v1-5/stable-diffusion-v1-5/blob/main/v1-5-pruned-emaonly.safetensors");
        Assert.Equal("https://huggingface.co/stable-diffusion-v1-5/stable-diffusion-v1-5/resolve/main/v1-5-pruned-emaonly.safetensors", source.Uri.ToString());
        Assert.Equal("HF_TOKEN", source.TokenVariable);
    }

    [Fact]
    public void CivitaiPageLinkWithVersionBecomesDownloadLink()
    {
        var source = DownloadSource.Parse("https://civitai.com/models/4384/dreamshaper?modelVersionId=128713");
        Assert.Equal("https://civitai.com/api/download/models/128713", source.Uri.ToString());
        Assert.Equal("CIVITAI_TOKEN", source.TokenVariable);
    }

    [Fact]
    public void CivitaiLinkWithoutVersionIsRefusedWithTheFix()
    {
        var e = Assert.Throws<DownloadException>(() => DownloadSource.Parse("https://civitai.com/models/4384/dreamshaper"));
        Assert.Contains("not a version", e.Message);
        Assert.Contains("modelVersionId", e.Message);
    }

    [Theory]
    [InlineData("ftp://example.com/x")]
    [InlineData("not a url")]
    [InlineData("/local/path.safetensors")]
    public void NonHttpInputIsRefused(string url) => Assert.Throws<DownloadException>(() => DownloadSource.Parse(url));

    [Fact]
    public void SecretsInQueriesAreRedacted() =>
        Assert.Equal("https://x.org/f?token=***&a=1", DownloadSource.Redact("https://x.org/f?token=abc123&a=1"));
}
