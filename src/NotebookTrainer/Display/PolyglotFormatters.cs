using System.Reflection;

namespace NotebookTrainer.Display;

/// <summary>
/// Registers <see cref="NotebookFormatterSource"/>'s formatters with a running Polyglot kernel, found by
/// reflection so the library needs no Interactive package. The attribute alone is not enough for types
/// we do not own (SkiaSharp images) or for interfaces: the kernel only reads attributes
/// on the concrete type being shown. Called by kernels/setup.csx; in any other host it does nothing.
/// </summary>
public static class PolyglotFormatters
{
    const string FormatterTypeName = "Microsoft.DotNet.Interactive.Formatting.Formatter";

    /// <summary>True when a kernel's formatter was found and the formatters were registered.</summary>
    public static bool RegisterWithKernel()
    {
        var formatter = AppDomain.CurrentDomain.GetAssemblies()
            .Select(a => a.GetType(FormatterTypeName, throwOnError: false))
            .FirstOrDefault(t => t != null);
        var register = formatter?.GetMethod("Register", BindingFlags.Public | BindingFlags.Static,
            [typeof(Type), typeof(Action<object, TextWriter>), typeof(string)]);
        if (register is null) return false;

        foreach (var kernelFormatter in new NotebookFormatterSource().CreateTypeFormatters().Cast<NotebookFormatterSource.KernelFormatter>())
        {
            Action<object, TextWriter> write = (value, writer) =>
            {
                if (!kernelFormatter.Format(value, writer)) writer.Write(Html.Escape(value.ToString()));
            };
            register.Invoke(null, [kernelFormatter.Type, write, kernelFormatter.MimeType]);
        }
        return true;
    }
}
