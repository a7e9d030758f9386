using NotebookTrainer.Runner;

return await RunnerCommandLine.RunAsync(args, Console.Out, Console.Error);
