namespace NotebookTrainer.Sampling;

/// <summary>One line of a kohya sample-prompts file, with defaults applied.</summary>
public sealed record SamplePrompt(string Prompt)
{
    public string NegativePrompt { get; init; } = "";
    public int Width { get; init; } = 512;
    public int Height { get; init; } = 512;
    public int Steps { get; init; } = 30;
    public double CfgScale { get; init; } = 7.5;
    /// <summary>null: a seed is chosen per run (or from the command's --seed).</summary>
    public long? Seed { get; init; }
    /// <summary>null: the run's default sampler.</summary>
    public string? Sampler { get; init; }
    /// <summary>1-based line in the file; 0 for prompts built in code.</summary>
    public int Line { get; init; }
}
