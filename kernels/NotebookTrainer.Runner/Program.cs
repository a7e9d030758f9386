using NotebookTrainer.Runner;

return RunnerCommandLine.Run(args, Console.Out, Console.Error);
