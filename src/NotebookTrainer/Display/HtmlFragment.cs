namespace NotebookTrainer.Display;

/// <summary>
/// Markup built by <see cref="Html"/> from escaped parts. A notebook shows it as HTML rather than as the text of
/// its tags, and it converts to its string wherever markup is being assembled.
/// </summary>
public sealed record HtmlFragment(string Markup) : IHtmlRenderable
{
    public string ToHtml() => Markup;

    public override string ToString() => Markup;

    public static implicit operator string(HtmlFragment fragment) => fragment.Markup;
}
