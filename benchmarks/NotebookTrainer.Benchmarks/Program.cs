using NotebookTrainer.Benchmarks;

var benchmarks = new Dictionary<string, Func<string[], int>>(StringComparer.Ordinal)
{
    ["checkpoint-load"] = CheckpointLoadBenchmark.Run,
};

if (args.Length == 0 || !benchmarks.TryGetValue(args[0], out var run))
{
    Console.WriteLine($"usage: dotnet run -c Release --project benchmarks/NotebookTrainer.Benchmarks -- <{string.Join(" | ", benchmarks.Keys)}> [options]");
    return args.Length == 0 ? 1 : 2;
}
return run(args[1..]);
