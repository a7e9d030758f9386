using NotebookTrainer.Display;

namespace NotebookTrainer.Runner.Execution;

/// <summary>
/// The globals every cell sees, matching the Polyglot kernel's: <c>display(x)</c> writes an output to the
/// running cell and returns a handle whose <c>Update</c> replaces that output in place.
/// </summary>
public class NotebookGlobals
{
    readonly OutputRouter router;

    internal NotebookGlobals(OutputRouter router) => this.router = router;

    // Lower-case on purpose: notebooks call the kernel's display(), and must compile in both hosts.
    public DisplayHandle display(object? value, params string[] mimeTypes)
    {
        var outputs = router.Current ?? throw new InvalidOperationException("display() was called while no cell is running.");
        router.ProgressEcho?.Report(value);
        var output = outputs.AddDisplay(DisplayHandle.Render(value, mimeTypes));
        return new DisplayHandle(outputs, output, mimeTypes, router.ProgressEcho);
    }
}

/// <summary>A displayed output that can be replaced, e.g. a progress bar or a live loss chart.</summary>
public sealed class DisplayHandle
{
    readonly CellOutputs outputs;
    readonly DisplayOutput output;
    readonly string[] mimeTypes;
    readonly ProgressEcho? echo;

    internal DisplayHandle(CellOutputs outputs, DisplayOutput output, string[] mimeTypes, ProgressEcho? echo)
    {
        this.outputs = outputs;
        this.output = output;
        this.mimeTypes = mimeTypes;
        this.echo = echo;
    }

    public void Update(object? value)
    {
        echo?.Report(value);
        outputs.Replace(output, Render(value, mimeTypes));
    }

    /// <summary>Renders through <see cref="MimeRenderer"/>; when MIME types are given, keeps only those (and text/plain).</summary>
    internal static MimeBundle Render(object? value, string[] mimeTypes)
    {
        var bundle = MimeRenderer.Render(value);
        if (mimeTypes.Length == 0) return bundle;
        var kept = bundle.Data.Where(kv => kv.Key == MimeBundle.PlainText || mimeTypes.Contains(kv.Key)).ToDictionary();
        return new MimeBundle(kept);
    }
}
