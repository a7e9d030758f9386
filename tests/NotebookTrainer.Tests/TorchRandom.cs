// Many tests build models whose initial weights come from torch's one global generator, and several seed it
// (manual_seed) to compare two runs bit for bit. Tests running side by side would draw from that generator in
// between, so the assembly runs its test classes one at a time.
[assembly: CollectionBehavior(DisableTestParallelization = true)]

namespace NotebookTrainer.Tests;

/// <summary>Tests that seed torch's global generator run in this collection, one at a time.</summary>
public static class TorchRandom
{
    public const string Collection = "torch global RNG";
}
