// First code cell of every notebook: #load "../kernels/setup.csx"
// References the library that notebooks/00-install.ipynb builds into artifacts/lib (with its dependencies),
// and the usings the notebooks share. The headless runner (ntrain-notebooks) maps these references to the
// copies it ships, so this file works there, in VS Code Polyglot Notebooks and in Jupyter's .NET kernel.
#r "../artifacts/lib/NotebookTrainer.dll"
#r "../artifacts/lib/TorchSharp.dll"
#r "../artifacts/lib/SkiaSharp.dll"

// `global`: a plain using in a #load'ed file applies to that file only; a global one reaches the later cells.
global using System.IO;
global using System.Diagnostics;
global using NotebookTrainer.Display;
global using NotebookTrainer.IO;
global using NotebookTrainer.Progress;
global using NotebookTrainer.Runtime;
global using TorchSharp;
global using static TorchSharp.torch;
global using SkiaSharp;

// In a Polyglot kernel: route library results (charts included) and SkiaSharp images to our HTML formatters.
PolyglotFormatters.RegisterWithKernel();
