using NotebookTrainer.Display;

namespace NotebookTrainer.Sampling;

/// <summary>One generated image: PNG bytes, what produced it, and where it was written (if it was).</summary>
public sealed record GeneratedImage(SamplePrompt Prompt, long Seed, string Sampler, int Steps, byte[] Png, string? Path = null) : IHtmlRenderable
{
    public string ToHtml() =>
        $"<figure class=\"nt-sample\"><img src=\"data:image/png;base64,{Convert.ToBase64String(Png)}\" alt=\"{Html.Escape(Prompt.Prompt)}\"/>" +
        $"<figcaption>{Html.Escape(Prompt.Prompt)}<br/><small>seed {Seed}, {Html.Escape(Sampler)}, {Steps} steps, CFG {Prompt.CfgScale}</small></figcaption></figure>";
}

/// <summary>The images of one sampling run (one epoch's prompts).</summary>
public sealed record SampleSet(IReadOnlyList<GeneratedImage> Images, TimeSpan Elapsed) : IHtmlRenderable
{
    public string ToHtml() =>
        $"<div class=\"nt-samples\" style=\"display:flex;flex-wrap:wrap;gap:8px\">{string.Concat(Images.Select(i => i.ToHtml()))}</div>" +
        $"<p>{Images.Count} images in {Elapsed.TotalSeconds:0.0} s</p>";
}
