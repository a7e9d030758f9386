using System.Diagnostics;
using System.Reflection;
using Microsoft.CodeAnalysis;

namespace NotebookTrainer.Runner.Execution;

/// <summary>Why a cell failed, located to a line of that cell, and the nbformat error output for it.</summary>
public sealed record CellFailure(int Line, string Message, string ErrorName, string ErrorValue, IReadOnlyList<string> Traceback)
{
    /// <summary>
    /// From the first compile error. An error inside a #load'ed file names that file and its line, and is
    /// placed on the cell line of the #load that brought it in.
    /// </summary>
    public static CellFailure FromDiagnostics(IReadOnlyList<Diagnostic> errors, string cellPath, string cellSource)
    {
        var first = errors[0];
        var span = first.Location.GetMappedLineSpan();
        var inCell = !span.IsValid || span.Path == cellPath;
        var line = inCell ? (span.IsValid ? span.StartLinePosition.Line + 1 : 1) : LoadDirectiveLine(cellSource, span.Path);
        var text = $"error {first.Id}: {first.GetMessage()}";
        if (first.Id == "CS0006")
            text = text.TrimEnd('.') + ". The runner maps #r to the assemblies it ships (NotebookTrainer and its dependencies, by file or package name); " +
                   "any other DLL must exist at that path, relative to the notebook or .csx that names it.";
        var message = inCell ? text : $"{Where(span, cellPath)}{text}";
        var traceback = errors.Select(d => Where(d.Location.GetMappedLineSpan(), cellPath) + $"error {d.Id}: {d.GetMessage()}").ToList();
        return new CellFailure(line, message, "CompilationError", message, traceback);
    }

    static string Where(FileLinePositionSpan span, string cellPath) =>
        !span.IsValid ? ""
        : span.Path == cellPath ? $"line {span.StartLinePosition.Line + 1}, column {span.StartLinePosition.Character + 1}: "
        : $"{Path.GetRelativePath(Path.GetDirectoryName(cellPath)!, span.Path)}({span.StartLinePosition.Line + 1},{span.StartLinePosition.Character + 1}): ";

    static int LoadDirectiveLine(string cellSource, string loadedPath)
    {
        var lines = cellSource.Split('\n');
        var index = Array.FindIndex(lines, l => l.TrimStart().StartsWith("#load", StringComparison.Ordinal) && l.Contains(Path.GetFileName(loadedPath), StringComparison.Ordinal));
        return index >= 0 ? index + 1 : 1;
    }

    /// <summary>From an exception thrown by the cell; the line comes from the cell's frame in the stack trace.</summary>
    public static CellFailure FromException(Exception exception, string cellPath)
    {
        var ex = Unwrap(exception);
        var line = CellLine(ex, cellPath) ?? 1;
        var name = ex.GetType().FullName ?? ex.GetType().Name;
        return new CellFailure(line, $"{name}: {ex.Message}", name, ex.Message,
            ex.ToString().Split('\n').Select(l => l.TrimEnd('\r')).ToList());
    }

    static Exception Unwrap(Exception ex) => ex switch
    {
        AggregateException { InnerExceptions.Count: 1 } a => Unwrap(a.InnerExceptions[0]),
        TargetInvocationException { InnerException: { } inner } => Unwrap(inner),
        _ => ex,
    };

    static int? CellLine(Exception? ex, string cellPath)
    {
        for (; ex != null; ex = ex.InnerException)
        {
            var frame = new StackTrace(ex, fNeedFileInfo: true).GetFrames()
                .FirstOrDefault(f => f.GetFileName() == cellPath && f.GetFileLineNumber() > 0);
            if (frame != null) return frame.GetFileLineNumber();
        }
        return null;
    }
}
