namespace NotebookTrainer.Display;

/// <summary>
/// Tells the .NET Interactive (Polyglot) kernel how to format a type without referencing its packages:
/// the kernel looks for an attribute with exactly this name and a <c>FormatterSourceType</c> property,
/// creates that type and calls its <c>CreateTypeFormatters()</c>; each formatter it yields exposes
/// <c>MimeType</c>, optionally <c>Type</c>, and <c>bool Format(object, TextWriter)</c>.
/// </summary>
[AttributeUsage(AttributeTargets.Class | AttributeTargets.Struct, Inherited = true)]
public sealed class TypeFormatterSourceAttribute(Type formatterSourceType) : Attribute
{
    public Type FormatterSourceType { get; } = formatterSourceType;

    public string[] PreferredMimeTypes { get; set; } = [MimeBundle.Html];
}
