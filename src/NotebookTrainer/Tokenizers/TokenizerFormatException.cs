namespace NotebookTrainer.Tokenizers;

/// <summary>A tokenizer folder that is missing or whose files do not fit together; the message names the file and the fix.</summary>
public sealed class TokenizerFormatException(string message) : Exception(message);
