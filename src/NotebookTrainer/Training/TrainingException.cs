namespace NotebookTrainer.Training;

/// <summary>Training stopped for a reason the user can act on; the message says what happened and what to change.</summary>
public sealed class TrainingException(string message, Exception? inner = null) : Exception(message, inner);
