namespace NotebookTrainer.Tests;

/// <summary>Tests that seed torch's global generator run in this collection, one at a time.</summary>
public static class TorchRandom
{
    public const string Collection = "torch global RNG";
}
