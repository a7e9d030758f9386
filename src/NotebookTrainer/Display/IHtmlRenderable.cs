namespace NotebookTrainer.Display;

/// <summary>
/// A library result that knows how to show itself as HTML. Polyglot's formatter registration and our
/// headless runner both call <see cref="ToHtml"/>, so a result looks the same in either host.
/// Implementations must escape every piece of user text with <see cref="Html.Escape"/>.
/// </summary>
public interface IHtmlRenderable
{
    string ToHtml();
}
