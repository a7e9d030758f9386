namespace NotebookTrainer.Downloads;

/// <summary>A download that cannot complete, with a message that says what happened and what to do.</summary>
public sealed class DownloadException(string message, Exception? inner = null) : Exception(message, inner);
