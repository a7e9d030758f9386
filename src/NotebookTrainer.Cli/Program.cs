// Names, tags and keys from files reach the terminal only with their control characters made visible.
Console.SetOut(TextWriter.Synchronized(new NotebookTrainer.IO.PrintableWriter(Console.Out)));
Console.SetError(TextWriter.Synchronized(new NotebookTrainer.IO.PrintableWriter(Console.Error)));
return NotebookTrainer.Cli.Ntrain.Run(args);
