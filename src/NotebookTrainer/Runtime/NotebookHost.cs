namespace NotebookTrainer.Runtime;

/// <summary>
/// What a notebook host lends to cells. <see cref="Cancellation"/> is the token our runner (ntrain-notebooks) cancels
/// on the first Ctrl+C, so long work in a cell (training, tagging, sampling) stops at a clean point: training
/// finishes its step and writes a resumable state. Hosts without such a signal leave it at CancellationToken.None.
/// <see cref="IsHeadless"/> is set by our runner, where nobody can open a page a cell serves.
/// </summary>
public static class NotebookHost
{
    public static CancellationToken Cancellation { get; set; }

    public static bool IsHeadless { get; set; }
}
