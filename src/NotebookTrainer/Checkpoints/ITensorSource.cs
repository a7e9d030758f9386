using NotebookTrainer.SafeTensors;
using static TorchSharp.torch;

namespace NotebookTrainer.Checkpoints;

/// <summary>Named tensors in a file whose shapes are known before any tensor is loaded.</summary>
public interface ITensorSource : IDisposable
{
    string Path { get; }
    IReadOnlyCollection<string> Names { get; }
    IReadOnlyDictionary<string, string> Metadata { get; }
    long[] Shape(string name);
    /// <summary>The stored dtype in safetensors spelling (F16, F32, I64 …).</summary>
    string DType(string name);
    Tensor Load(string name, ScalarType? dtype = null);
}

sealed class SafeTensorsSource(SafeTensorsFile file) : ITensorSource
{
    readonly HashSet<string> names = file.Names.ToHashSet(StringComparer.Ordinal);

    public static SafeTensorsSource Open(string path) => new(SafeTensorsFile.Open(path));

    public string Path => file.Path;
    public IReadOnlyCollection<string> Names => names;
    public IReadOnlyDictionary<string, string> Metadata => file.Metadata;
    public long[] Shape(string name) => file.Entries[name].Shape;
    public string DType(string name) => file.Entries[name].DType;
    public Tensor Load(string name, ScalarType? dtype = null) => file.Load(name, dtype);
    public void Dispose() => file.Dispose();
}
