namespace NotebookTrainer.Checkpoints;

/// <summary>A checkpoint (or its config) that cannot be used as a base model; the message names the file and the fix.</summary>
public sealed class CheckpointFormatException(string message) : Exception(message);
