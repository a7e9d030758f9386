using NotebookTrainer.Progress;
using SkiaSharp;

namespace NotebookTrainer.Display;

/// <summary>
/// The formatters the Polyglot kernel gets from <see cref="TypeFormatterSourceAttribute"/>. Each one covers a
/// type (or interface) and defers to <see cref="MimeRenderer"/>, so the kernel and our runner render alike.
/// </summary>
public sealed class NotebookFormatterSource
{
    /// <summary>Types rendered as HTML in the kernel. Images become an inline PNG inside HTML there.</summary>
    public static IReadOnlyList<Type> HtmlTypes { get; } =
    [
        typeof(IHtmlRenderable), typeof(ProgressUpdate), typeof(SKBitmap), typeof(SKImage),
    ];

    public IEnumerable<object> CreateTypeFormatters() =>
        HtmlTypes.Select(type => new KernelFormatter(type, MimeBundle.Html));

    /// <summary>The shape the kernel's convention expects: MimeType, Type and Format(object, TextWriter).</summary>
    public sealed class KernelFormatter(Type type, string mimeType)
    {
        public Type Type { get; } = type;

        public string MimeType { get; } = mimeType;

        public bool Format(object instance, TextWriter writer)
        {
            if (!Type.IsInstanceOfType(instance)) return false;
            var html = MimeRenderer.ToHtml(instance);
            if (html is null) return false;
            writer.Write(html);
            return true;
        }
    }
}
