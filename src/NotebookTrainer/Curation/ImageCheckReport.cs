using System.Text;
using NotebookTrainer.Display;

namespace NotebookTrainer.Curation;

public sealed record ImageCheckReport(
    string Folder,
    ImageCheckOptions Options,
    IReadOnlyList<CheckedImage> Images,
    IReadOnlyList<IReadOnlyList<CheckedImage>> ExactDuplicates,
    IReadOnlyList<IReadOnlyList<CheckedImage>> NearDuplicates,
    IReadOnlyList<CheckedImage> TooSmall,
    IReadOnlyList<CheckedImage> VeryLarge,
    IReadOnlyList<CheckedImage> Transparent,
    IReadOnlyList<UnreadableImage> Unreadable) : IHtmlRenderable
{
    /// <summary>All copies but the first of each exact-duplicate group: safe to move to the trash.</summary>
    public IReadOnlyList<string> RedundantCopies => ExactDuplicates.SelectMany(g => g.Skip(1).Select(i => i.Path)).ToList();

    public override string ToString()
    {
        var sb = new StringBuilder($"{Images.Count} readable images in {Folder}");
        sb.Append($"\n  exact duplicate groups: {ExactDuplicates.Count}{Names(ExactDuplicates)}");
        sb.Append($"\n  near-duplicate groups (pHash distance ≤ {Options.NearDuplicateDistance}): {NearDuplicates.Count}{Names(NearDuplicates)}");
        sb.Append($"\n  below {Options.SmallAreaFraction:P0} of {Options.TrainingResolution}² pixels: {TooSmall.Count}{List(TooSmall.Select(i => $"{Name(i.Path)} {i.Width}x{i.Height}"))}");
        sb.Append($"\n  very large: {VeryLarge.Count}{List(VeryLarge.Select(i => $"{Name(i.Path)} {i.Width}x{i.Height}"))}");
        sb.Append($"\n  with transparency: {Transparent.Count}{List(Transparent.Select(i => Name(i.Path)))}");
        sb.Append($"\n  unreadable: {Unreadable.Count}{List(Unreadable.Select(u => $"{Name(u.Path)} ({u.Reason})"))}");
        return sb.ToString();
    }

    string Name(string path) => Path.GetRelativePath(Folder, path);
    static string List(IEnumerable<string> items) { var l = items.ToList(); return l.Count == 0 ? "" : " — " + string.Join(", ", l); }
    string Names(IEnumerable<IReadOnlyList<CheckedImage>> groups) => List(groups.Select(g => "[" + string.Join(" ", g.Select(i => Name(i.Path))) + "]"));

    public string ToHtml()
    {
        var sb = new StringBuilder("<div class=\"nt-image-checks\"><p>").Append(Images.Count).Append(" readable images in ").Append(Html.Escape(Folder)).Append("</p>");
        Groups(sb, "Exact duplicates (same bytes)", ExactDuplicates);
        Groups(sb, $"Near duplicates (pHash distance ≤ {Options.NearDuplicateDistance})", NearDuplicates);
        Section(sb, $"Below {Options.SmallAreaFraction:P0} of {Options.TrainingResolution}×{Options.TrainingResolution} pixels (will be upscaled)", TooSmall.Select(i => (i.Path, $"{i.Width}×{i.Height}")));
        Section(sb, "Very large", VeryLarge.Select(i => (i.Path, $"{i.Width}×{i.Height}")));
        Section(sb, "With transparency (tagged and trained composited on white)", Transparent.Select(i => (i.Path, "")));
        Section(sb, "Unreadable", Unreadable.Select(u => (u.Path, u.Reason)));
        return sb.Append("</div>").ToString();
    }

    void Groups(StringBuilder sb, string title, IReadOnlyList<IReadOnlyList<CheckedImage>> groups)
    {
        sb.Append("<h4>").Append(Html.Escape(title)).Append(": ").Append(groups.Count).Append("</h4>");
        foreach (var g in groups)
        {
            sb.Append("<div style=\"display:flex;gap:8px;margin-bottom:8px\">");
            foreach (var i in g)
                sb.Append("<figure style=\"margin:0\"><img src=\"").Append(NotebookTrainer.Images.ThumbnailGrid.Thumbnail(i.Path, 96) ?? "").Append("\" style=\"max-width:96px;max-height:96px\"><figcaption style=\"font-size:small\">")
                  .Append(Html.Escape(Name(i.Path))).Append("</figcaption></figure>");
            sb.Append("</div>");
        }
    }

    void Section(StringBuilder sb, string title, IEnumerable<(string Path, string Detail)> items)
    {
        var list = items.ToList();
        sb.Append("<h4>").Append(Html.Escape(title)).Append(": ").Append(list.Count).Append("</h4>");
        if (list.Count > 0) sb.Append(Html.Table(["image", ""], list.Select(i => new object?[] { Name(i.Path), i.Detail })));
    }
}
