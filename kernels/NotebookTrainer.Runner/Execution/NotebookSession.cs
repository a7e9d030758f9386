using System.Text;
using System.Text.RegularExpressions;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Scripting;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Scripting;
using Microsoft.CodeAnalysis.Scripting.Hosting;

namespace NotebookTrainer.Runner.Execution;

/// <summary>What running one cell produced; <paramref name="Warnings"/> are the compiler's, as the kernel shows them.</summary>
public sealed record CellRun(bool Succeeded, bool HasTrailingValue, object? ReturnValue, CellFailure? Failure, IReadOnlyList<string> Warnings)
{
    public static CellRun Failed(CellFailure failure) => new(false, false, null, failure, []);
}

/// <summary>
/// One notebook's C# session: a chain of Roslyn script submissions, one per code cell, so variables,
/// usings and #r references carry from cell to cell as in the kernel.
/// </summary>
public sealed partial class NotebookSession : IDisposable
{
    /// <summary>The kernel's default usings; the notebooks' setup.csx adds the rest.</summary>
    static readonly string[] DefaultImports = ["System", "System.Collections.Generic", "System.Linq", "System.Text", "System.Threading.Tasks"];

    /// <summary>
    /// Assembly-version unification notes depend on which framework assemblies a host compiles against, so they
    /// say nothing about the notebook; every other warning is shown, as the kernel does.
    /// </summary>
    static readonly HashSet<string> HostSpecificWarnings = ["CS1701", "CS1702"];

    static readonly Lazy<IReadOnlyList<MetadataReference>> FrameworkReferences = new(() =>
    {
        var dir = Path.GetDirectoryName(typeof(object).Assembly.Location)!;
        return Directory.EnumerateFiles(dir, "*.dll")
            .Where(f => Path.GetFileName(f) is var n && (n.StartsWith("System", StringComparison.Ordinal) || n is "mscorlib.dll" or "netstandard.dll" or "Microsoft.CSharp.dll" or "Microsoft.Win32.Primitives.dll"))
            .Select(f => (MetadataReference)HostAssemblyResolver.Reference(f))
            .Append(HostAssemblyResolver.Reference(typeof(NotebookGlobals).Assembly.Location))
            .ToList();
    });

    readonly string notebookPath;
    readonly NotebookGlobals globals;
    readonly InteractiveAssemblyLoader loader = new();
    readonly ScriptOptions options;
    ScriptState<object>? state;

    public NotebookSession(string notebookPath, NotebookGlobals globals)
    {
        this.notebookPath = Path.GetFullPath(notebookPath);
        this.globals = globals;
        var directory = Path.GetDirectoryName(this.notebookPath)!;
        options = ScriptOptions.Default
            .WithReferences(FrameworkReferences.Value)
            .WithImports(DefaultImports)
            .WithMetadataResolver(new HostAssemblyResolver(directory))
            .WithSourceResolver(new SourceFileResolver([], directory))
            .WithEmitDebugInformation(true)
            .WithFileEncoding(Encoding.UTF8)
            .WithAllowUnsafe(true);
    }

    /// <summary>The virtual file name a cell compiles under; stack traces and diagnostics carry it.</summary>
    public string CellPath(int cellNumber) => $"{notebookPath}.cell{cellNumber}.csx";

    public async Task<CellRun> RunCellAsync(int cellNumber, string source, CancellationToken cancellationToken)
    {
        var cellPath = CellPath(cellNumber);
        var code = WithoutKernelOnlyDirectives(source);
        if (MagicCommand().Match(code) is { Success: true } magic)
        {
            var line = code[..magic.Index].Count(c => c == '\n') + 1;
            var message = $"magic command '{magic.Value.Trim()}' is a Polyglot kernel feature the runner does not run; remove it (plain C# runs in every host).";
            return CellRun.Failed(new CellFailure(line, message, "UnsupportedMagicCommand", message, []));
        }
        var cellOptions = options.WithFilePath(cellPath);
        var script = state is null
            ? CSharpScript.Create(code, cellOptions, typeof(NotebookGlobals), loader)
            : state.Script.ContinueWith(code, cellOptions);

        var diagnostics = script.Compile(cancellationToken);
        var errors = diagnostics.Where(d => d.Severity == DiagnosticSeverity.Error).ToList();
        if (errors.Count > 0) return CellRun.Failed(CellFailure.FromDiagnostics(errors, cellPath, code));
        var warnings = diagnostics
            .Where(d => d.Severity == DiagnosticSeverity.Warning && d.Location.SourceTree?.FilePath == cellPath && !HostSpecificWarnings.Contains(d.Id))
            .Select(Warning).ToList();

        try
        {
            var next = state is null
                ? await script.RunAsync(globals, _ => true, cancellationToken)
                : await script.RunFromAsync(state, _ => true, cancellationToken);
            if (next.Exception is { } exception) return CellRun.Failed(CellFailure.FromException(exception, cellPath));
            state = next;
            return new CellRun(true, HasTrailingValue(script, cellPath), next.ReturnValue, null, warnings);
        }
        catch (Exception exception) when (exception is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            return CellRun.Failed(CellFailure.FromException(exception, cellPath));
        }
    }

    /// <summary>The kernel's form: <c>(line,column): warning CS8632: message</c>, positions 1-based within the cell.</summary>
    static string Warning(Diagnostic warning)
    {
        var start = warning.Location.GetLineSpan().StartLinePosition;
        return $"({start.Line + 1},{start.Character + 1}): warning {warning.Id}: {warning.GetMessage(System.Globalization.CultureInfo.InvariantCulture)}";
    }

    /// <summary>
    /// <c>#i "nuget: …"</c> adds a package source in the kernel; here packages map to the runner's own
    /// assemblies. <c>#!csharp</c> only selects the C# kernel. Both lines become blank (keeping line numbers).
    /// </summary>
    static string WithoutKernelOnlyDirectives(string source) => CSharpKernelSelector().Replace(PackageSourceDirective().Replace(source, ""), "");

    /// <summary>
    /// True when the cell ends in a non-void expression with no semicolon, which the kernel displays
    /// (also when its value is null).
    /// </summary>
    static bool HasTrailingValue(Script script, string cellPath)
    {
        var compilation = script.GetCompilation();
        var tree = compilation.SyntaxTrees.First(t => t.FilePath == cellPath);
        if (tree.GetCompilationUnitRoot().Members.LastOrDefault() is not GlobalStatementSyntax { Statement: ExpressionStatementSyntax statement }
            || !statement.SemicolonToken.IsMissing)
            return false;
        var type = compilation.GetSemanticModel(tree).GetTypeInfo(statement.Expression).Type;
        return type is not null && type.SpecialType != SpecialType.System_Void;
    }

    public void Dispose() => loader.Dispose();

    [GeneratedRegex(@"^[ \t]*#i[ \t]+""[^""\n]*""[ \t]*\r?$", RegexOptions.Multiline)]
    private static partial Regex PackageSourceDirective();

    [GeneratedRegex(@"^[ \t]*#!(csharp|c#)[ \t]*\r?$", RegexOptions.Multiline)]
    private static partial Regex CSharpKernelSelector();

    [GeneratedRegex(@"^[ \t]*#![^\r\n]*", RegexOptions.Multiline)]
    private static partial Regex MagicCommand();
}
