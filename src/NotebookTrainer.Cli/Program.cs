return NotebookTrainer.Cli.Ntrain.Run(args);
