using NotebookTrainer.Benchmarks;

const string usage = """
    usage: NotebookTrainer.Benchmarks <benchmark> [args]

      tagging [--images N] [--side 448|64] [--batch 8]
                 WD14 tagging end to end (decode, preprocess, ONNX Runtime, captions) vs bare InferenceSession.Run
    """;

if (args.Length == 0)
{
    Console.WriteLine(usage);
    return 1;
}
switch (args[0])
{
    case "tagging": return TaggingBenchmark.Run(args[1..]);
    default:
        Console.Error.WriteLine($"unknown benchmark '{args[0]}'.\n{usage}");
        return 2;
}
