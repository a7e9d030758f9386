using System.Collections.Concurrent;
using System.Collections.Immutable;
using Microsoft.CodeAnalysis;

namespace NotebookTrainer.Runner.Execution;

/// <summary>
/// Resolves <c>#r</c> the way the notebooks need it headless: an assembly the runner already ships
/// (NotebookTrainer, TorchSharp, SkiaSharp…) always maps to the runner's own copy, whether it is
/// named by path (<c>#r "../artifacts/lib/NotebookTrainer.dll"</c>) or as a package
/// (<c>#r "nuget: NotebookTrainer, 0.1.0"</c>), so one process never holds two copies of an assembly.
/// Other paths resolve relative to the file that names them.
/// </summary>
public sealed class HostAssemblyResolver(string notebookDirectory) : MetadataReferenceResolver
{
    static readonly ConcurrentDictionary<string, PortableExecutableReference> ReferenceCache = new(StringComparer.Ordinal);

    static readonly Lazy<IReadOnlyDictionary<string, string>> HostAssemblies = new(() =>
    {
        var byName = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        var tpa = (AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES") as string ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries);
        foreach (var path in tpa) byName.TryAdd(Path.GetFileNameWithoutExtension(path), path);
        foreach (var assembly in AppDomain.CurrentDomain.GetAssemblies().Where(a => !a.IsDynamic && a.Location.Length > 0))
            byName.TryAdd(assembly.GetName().Name!, assembly.Location);
        return byName;
    });

    public string NotebookDirectory { get; } = notebookDirectory;

    public static bool TryGetHostAssembly(string simpleName, out string path) => HostAssemblies.Value.TryGetValue(simpleName, out path!);

    public static PortableExecutableReference Reference(string path) =>
        ReferenceCache.GetOrAdd(Path.GetFullPath(path), p => MetadataReference.CreateFromFile(p));

    public override ImmutableArray<PortableExecutableReference> ResolveReference(string reference, string? baseFilePath, MetadataReferenceProperties properties)
    {
        const string nuget = "nuget:";
        if (reference.StartsWith(nuget, StringComparison.OrdinalIgnoreCase))
        {
            var package = reference[nuget.Length..].Split(',')[0].Trim();
            return TryGetHostAssembly(package, out var hostPath) ? [Reference(hostPath)] : [];
        }

        var name = reference.EndsWith(".dll", StringComparison.OrdinalIgnoreCase) ? Path.GetFileNameWithoutExtension(reference) : reference;
        if (TryGetHostAssembly(name, out var loaded)) return [Reference(loaded)];

        var baseDirectory = baseFilePath is null ? NotebookDirectory : Path.GetDirectoryName(baseFilePath) ?? NotebookDirectory;
        var path = Path.GetFullPath(Path.Combine(baseDirectory, reference));
        return File.Exists(path) ? [Reference(path)] : [];
    }

    public override bool ResolveMissingAssemblies => true;

    public override PortableExecutableReference? ResolveMissingAssembly(MetadataReference definition, AssemblyIdentity referenceIdentity) =>
        TryGetHostAssembly(referenceIdentity.Name, out var path) ? Reference(path) : null;

    public override bool Equals(object? other) => other is HostAssemblyResolver r && r.NotebookDirectory == NotebookDirectory;

    public override int GetHashCode() => NotebookDirectory.GetHashCode(StringComparison.Ordinal);
}
