using System.Diagnostics;
using System.Reflection;
using Microsoft.CodeAnalysis;

namespace NotebookTrainer.Runner.Execution;

/// <summary>Why a cell failed, located to a line of that cell, and the nbformat error output for it.</summary>
public sealed record CellFailure(int Line, string Message, string ErrorName, string ErrorValue, IReadOnlyList<string> Traceback)
{
    /// <summary>From the first compile error. Errors inside a #load'ed file name that file and its line.</summary>
    public static CellFailure FromDiagnostics(IReadOnlyList<Diagnostic> errors, string cellPath)
    {
        var first = errors[0];
        var span = first.Location.GetMappedLineSpan();
        var inCell = !span.IsValid || span.Path == cellPath;
        var line = inCell && span.IsValid ? span.StartLinePosition.Line + 1 : 1;
        var text = $"error {first.Id}: {first.GetMessage()}";
        var message = inCell ? text : $"{span.Path}({span.StartLinePosition.Line + 1},{span.StartLinePosition.Character + 1}): {text}";
        if (first.Id == "CS0006")
            message += " The runner maps #r to the assemblies it ships (NotebookTrainer and its dependencies, by file or package name); " +
                       "any other DLL must exist at that path, relative to the notebook or .csx that names it.";
        var traceback = errors.Select(d => Describe(d, cellPath)).ToList();
        return new CellFailure(line, message, "CompilationError", message, traceback);
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

    static string Describe(Diagnostic d, string cellPath)
    {
        var span = d.Location.GetMappedLineSpan();
        var where = !span.IsValid ? "" :
            span.Path == cellPath ? $"line {span.StartLinePosition.Line + 1}, column {span.StartLinePosition.Character + 1}: "
            : $"{span.Path}({span.StartLinePosition.Line + 1},{span.StartLinePosition.Character + 1}): ";
        return $"{where}error {d.Id}: {d.GetMessage()}";
    }
}
