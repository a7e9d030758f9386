namespace NotebookTrainer.Display;

/// <summary>
/// One value rendered for a notebook output: MIME type → content. Text types hold the text,
/// <c>image/png</c> holds base64, <c>application/…+json</c> holds a JSON document.
/// Always has <c>text/plain</c> so every host can show something.
/// </summary>
public sealed record MimeBundle(IReadOnlyDictionary<string, string> Data)
{
    public const string PlainText = "text/plain";
    public const string Html = "text/html";
    public const string Png = "image/png";
    public const string PlotlyJson = "application/vnd.plotly.v1+json";

    public string Text => Data[PlainText];

    public string? Get(string mimeType) => Data.TryGetValue(mimeType, out var v) ? v : null;

    public static MimeBundle OfText(string text) => new(new Dictionary<string, string> { [PlainText] = text });
}
