using System.Globalization;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using NotebookTrainer.Runner.Ipynb;

namespace NotebookTrainer.Runner;

/// <summary>
/// Papermill-style parameters: the first cell tagged <c>parameters</c> holds defaults; values from
/// <c>--param name=value</c> go into a new cell right after it, tagged <c>injected-parameters</c>, that
/// assigns typed C# literals. A value is written as the declared type's literal when the parameters cell
/// declares it as string/float/decimal, else as int, double or bool when it parses as one, else as a string.
/// </summary>
public static class ParameterInjector
{
    public const string ParametersTag = "parameters";
    public const string InjectedTag = "injected-parameters";

    /// <summary>Names declared in the notebook's parameters cell (empty when it has none).</summary>
    public static IReadOnlyDictionary<string, string?> DeclaredParameters(NotebookDocument notebook)
    {
        var cell = notebook.Cells.FirstOrDefault(c => c.IsCode && c.Tags.Contains(ParametersTag));
        if (cell is null) return new Dictionary<string, string?>();
        var root = CSharpSyntaxTree.ParseText(cell.Source, CSharpParseOptions.Default.WithKind(SourceCodeKind.Script)).GetCompilationUnitRoot();
        var declared = new Dictionary<string, string?>();
        foreach (var declaration in root.DescendantNodes().OfType<VariableDeclarationSyntax>())
        {
            foreach (var variable in declaration.Variables)
            {
                var type = declaration.Type.IsVar
                    ? variable.Initializer?.Value is LiteralExpressionSyntax literal && literal.IsKind(SyntaxKind.StringLiteralExpression) ? "string" : null
                    : declaration.Type.ToString();
                declared[variable.Identifier.Text] = type;
            }
        }
        return declared;
    }

    /// <summary>Injects the parameters this notebook declares; returns the names injected.</summary>
    public static IReadOnlyList<string> Inject(NotebookDocument notebook, IReadOnlyDictionary<string, string> parameters)
    {
        var declared = DeclaredParameters(notebook);
        var mine = parameters.Where(p => declared.ContainsKey(p.Key)).ToList();
        if (mine.Count == 0) return [];

        var index = notebook.Cells.FindIndex(c => c.IsCode && c.Tags.Contains(ParametersTag));
        var lines = new List<string> { "// Parameters injected by ntrain-notebooks --param" };
        lines.AddRange(mine.Select(p => $"{p.Key} = {Literal(p.Value, declared[p.Key])};"));
        var id = InjectedTag;
        for (var n = 2; notebook.Cells.Any(c => c.Json["id"]?.GetValue<string>() == id); n++) id = $"{InjectedTag}-{n}";
        notebook.Cells.Insert(index + 1, NotebookCell.NewCode(id, string.Join("\n", lines), InjectedTag));
        return mine.Select(p => p.Key).ToList();
    }

    public static string Literal(string value, string? declaredType)
    {
        var invariant = CultureInfo.InvariantCulture;
        switch (declaredType)
        {
            case "string" or "String" or "System.String":
                return SymbolDisplay.FormatLiteral(value, quote: true);
            case "float" when double.TryParse(value, NumberStyles.Float, invariant, out _):
                return value + "f";
            case "decimal" when decimal.TryParse(value, NumberStyles.Float, invariant, out _):
                return value + "m";
        }
        if (int.TryParse(value, NumberStyles.AllowLeadingSign, invariant, out var i)) return i.ToString(invariant);
        if (double.TryParse(value, NumberStyles.Float, invariant, out var d)) return d.ToString("R", invariant);
        if (bool.TryParse(value, out var b)) return b ? "true" : "false";
        return SymbolDisplay.FormatLiteral(value, quote: true);
    }
}
