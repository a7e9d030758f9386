Console.WriteLine("ntrain-notebooks: not built yet");
return 1;
