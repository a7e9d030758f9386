namespace NotebookTrainer.SafeTensors;

/// <summary>A file that is not a well-formed safetensors file. The message names the file and what is wrong.</summary>
public sealed class SafeTensorsFormatException : Exception
{
    public SafeTensorsFormatException(string path, string problem)
        : base($"{path}: not a valid safetensors file: {problem}")
    {
        Path = path;
        Problem = problem;
    }

    public string Path { get; }
    public string Problem { get; }
}
