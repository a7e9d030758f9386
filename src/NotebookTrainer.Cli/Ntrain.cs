namespace NotebookTrainer.Cli;

public static class Ntrain
{
    const string Usage = """
        ntrain — kohya-compatible LoRA training from .NET

        usage: ntrain <command> [args]

          version                                  library, libtorch and device information
          env                                      .NET, OS, libtorch backend, CPU/GPU, memory, disk; what is missing and the fix
          download <catalog-name | url> --out PATH [--sha256 HEX] [--catalog models.toml]
                                                   download a model (resume, sha256 check, HF_TOKEN / CIVITAI_TOKEN)
          acquire zip <file.zip> --out DIR         unpack a dataset zip safely
          acquire urls <links.txt> --out DIR       download a list of image links (parallel, polite, deduplicated)
          acquire booru <danbooru|gelbooru> <base-url> --tags "a b -c" --out DIR [--limit N] [--rating g,s]
                                                   download a booru search, tags become the captions
          dataset inspect <config.toml|.json | folder> [--json]
                                                   images, captions, buckets, steps per epoch and problems
          dataset sample --out DIR [--seed N] [--count N] [--regularization]
                                                   generate the built-in sample dataset (purple hearts, 10_sks heart), or
                                                   DreamBooth reg images of what the base model already draws (1_shape)
          metadata merge-captions|merge-tags <dir> <out.json> [--in-json FILE] [--caption-extension EXT] [--full-path]
              [--recursive] [--debug]
                                                   captions (.caption) or tags (.txt) into kohya's fine-tune metadata JSON
          metadata clean <in.json> <out.json> [--debug]
                                                   kohya's clean_captions_and_tags rules on the metadata
          metadata prepare-buckets <dir> <in.json> <out.json> <model> [--max-resolution 512,512] [--min-bucket-reso 256]
              [--max-bucket-reso 1024] [--bucket-reso-steps 64] [--bucket-no-upscale] [--batch-size 1] [--flip-aug]
              [--alpha-mask] [--skip-existing] [--full-path] [--recursive] [--mixed-precision no|fp16|bf16] [--config DIR]
              [--seed N]
                                                   bucket every image, record train_resolution, write its latents .npz
          model tiny --out DIR [--random [--seed N]]
                                                   copy out the embedded tiny SD model (single file + config/ + tokenizer/),
                                                   or write one with random weights
          model verify <fixture-dir>               compare our modules with reference outputs (exit 1 on mismatch)
          model inspect <path> [--json] [--config DIR]
                                                   format, architecture, dtypes, parameters, missing keys and hashes of a
                                                   checkpoint (.safetensors, .ckpt/.pt, or a diffusers folder)
          model load <model> [--config DIR] [--dtype fp32|fp16|bf16]
                                                   build the model as training does; parameters, dtype, peak memory
          tag <dir> --model DIR [--general-threshold 0.35] [--character-threshold 0.35] [--undesired "a, b"]
              [--always-first "1girl, 1boy"] [--rating off|first|last] [--character-first] [--keep-underscores]
              [--append] [--caption-extension .txt] [--batch-size 8] [--recursive] [--cpu] [--dry-run] [--json]
                                                   WD14 tagging (model.onnx + selected_tags.csv); exit 1 if images were skipped
          tagger world --out DIR [--seed N] [--images N] [--steps N] [--test-images N] [--json]
                                                   train the judge of the generated world (WD14-signature ONNX tagger)
          tagger evaluate --model DIR [--count 1000] [--seed N] [--json]
                                                   per-attribute accuracy of a tagger on fresh world scenes; exit 1 below 95%
          tags stats <dir> [--tags-csv FILE] [--json]
                                                   tag frequency table (count, % of images, category)
          tags edit <dir> [--activation TAG] [--remove "a, b"] [--replace "a, b" --with "c" [--and] [--replacement-first]]
              [--merge "a, b" --into c] [--prune-below N [--keep "x"]] [--dedupe] [--sort alpha|frequency [--keep-first N]]
              [--image NAME [--add "a"] [--remove "b"]] [--dry-run] [--json]
                                                   curate captions through the undo journal (.ntrain/tag-journal.log)
          tags undo|redo <dir> [--json]            revert / re-apply the last caption operation (also after a restart)
          tags check <dir> [--resolution 512] [--near-distance 8] [--trash-duplicates] [--json]
                                                   duplicates, near-duplicates, small/large/transparent/unreadable images
          curate <dir> [--tags-csv FILE]           interactive tag pruning page on 127.0.0.1 until Ctrl-C
          train --config training.toml [--dataset-config dataset.toml] [--resume STATE_DIR]
                                                   train a LoRA/LoCon/LoHa (kohya keys); Ctrl-C saves a resumable state
          finetune --config training.toml [--dataset-config dataset.toml] [--resume STATE_DIR]
                                                   train the U-Net's own weights, ± text encoder (kohya fine_tune.py keys);
                                                   writes a full checkpoint (the base file's keys) or a diffusers folder
          dreambooth --config training.toml [--dataset-config dataset.toml] [--resume STATE_DIR]
                                                   DreamBooth (kohya train_db.py keys): U-Net + text encoder on
                                                   N_identifier class folders, reg images at prior_loss_weight; full checkpoint
          textual-inversion --config training.toml [--dataset-config dataset.toml] [--resume STATE_DIR]
                                                   learn token_string's embedding (train_textual_inversion.py keys);
                                                   writes an A1111/ComfyUI embedding (emb_params)
          pretrain --out DIR [--seed N] [--unet-steps N] [--install DIR] [--smoke]
                                                   train the embedded tiny model from scratch on the generated world (VAE,
                                                   U-Net, judge tagger, evaluation; resumable); --install copies the result
          accuracy --model PATH|embedded:tiny [--seeds 8] [--steps 30] [--cfg 7.5] [--judge DIR] [--out DIR] [--json]
                                                   judged attribute accuracy over every colour × shape × background
          lora inspect <file.safetensors> [--json] [--top-tags N]
                                                   LoRA metadata, tag frequency, modules per block, rank/alpha, ‖ΔW‖
          lora diff <a.safetensors> <b.safetensors> [--json]
                                                   modules only in one file, rank/alpha differences, norm ratios
          sample --model PATH [--config DIR] [--tokenizer DIR] --prompts FILE --out DIR [--lora FILE[:WEIGHT]]... [--embedding FILE[:WORD]]...
              [--steps N] [--sampler NAME] [--seed N] [--name NAME] [--epoch N] [--clip-skip N] [--dtype fp32|fp16|bf16]
                                                   sample images with LoRAs and embeddings (the word is the file name) applied,
                                                   kohya names in DIR/sample
          sample prompts <prompts.txt> [--sampler NAME] [--seed N] [--steps N]
                                                   check a kohya sample-prompts file: size, steps, CFG, sampler, seed
          log <run-dir | loss.csv>                 per-epoch mean loss of a training run, and its validation loss
          judge <run-dir> [--model PATH] [--judge DIR] [--seeds 8] [--seen-seeds N] [--cfg 7.5] [--final-only] [--json]
                                                   judged concept accuracy (sks purple heart) of the base model and of each
                                                   saved LoRA, checkpoint or embedding; seen prompts beside it
        """;

    /// <summary>Cancelled by Ctrl-C: long commands finish their current unit of work and stop cleanly.</summary>
    public static CancellationToken Cancellation => cancellation.Token;
    static readonly CancellationTokenSource cancellation = new();

    /// <summary>Errors whose message already names the file, key or value and the fix: printed as they are, exit code 2.</summary>
    static bool IsUserFacing(Exception e) => e is InvalidDataException or FileNotFoundException or DirectoryNotFoundException
        or Downloads.DownloadException or HttpRequestException or UnauthorizedAccessException
        or Checkpoints.CheckpointFormatException or SafeTensors.SafeTensorsFormatException or ModelConfigs.ModelConfigException
        or Models.ModelWeightsException or Models.FixtureException or Tokenizers.TokenizerFormatException
        or Training.TrainingException or Configuration.ConfigException
        or Tagging.TaggerModelException or Curation.CurationLockedException or Curation.CurationConflictException
        or IO.UntrustedFileException;

    public static int Run(string[] args)
    {
        if (args.Length == 0 || args[0] is "-h" or "--help" or "help")
        {
            Console.WriteLine(Usage);
            return args.Length == 0 ? 1 : 0;
        }
        Console.CancelKeyPress += (_, e) =>
        {
            if (cancellation.IsCancellationRequested) return;   // a second Ctrl-C kills the process
            e.Cancel = true;
            Console.Error.WriteLine("\nntrain: stopping after the current step (Ctrl-C again to kill)…");
            cancellation.Cancel();
        };
        var rest = args[1..];
        try
        {
            switch (args[0])
            {
                case "version":
                    Console.WriteLine($"NotebookTrainer {typeof(Runtime.TorchRuntime).Assembly.GetName().Version}, libtorch {Runtime.TorchRuntime.LibTorchVersion}, device {Runtime.TorchRuntime.DefaultDevice}");
                    return 0;
                case "env": return Commands.EnvironmentCommands.Run(rest);
                case "download": return Commands.AcquisitionCommands.Download(rest);
                case "acquire": return Commands.AcquisitionCommands.Acquire(rest);
                case "dataset": return Commands.DatasetCommands.Run(rest);
                case "metadata": return Commands.MetadataCommands.Run(rest);
                case "model": return Commands.ModelCommands.Run(rest);
                case "tag" or "tagger" or "tags" or "curate": return Commands.TaggingCommands.Run(args[0], rest);
                case "train": return Commands.TrainCommands.Run(rest, Training.TrainingMethod.Network);
                case "finetune": return Commands.TrainCommands.Run(rest, Training.TrainingMethod.FineTune);
                case "dreambooth": return Commands.TrainCommands.Run(rest, Training.TrainingMethod.DreamBooth);
                case "textual-inversion": return Commands.TrainCommands.Run(rest, Training.TrainingMethod.TextualInversion);
                case "pretrain": return Commands.PretrainCommands.Run(rest);
                case "accuracy": return Commands.AccuracyCommands.Run(rest);
                case "lora" or "sample" or "log" or "judge": return Commands.SamplingCommands.Run(args[0], rest);
                default:
                    Console.Error.WriteLine($"ntrain: unknown command '{args[0]}'. Run 'ntrain --help' for the list.");
                    return 2;
            }
        }
        catch (CliException e)
        {
            Console.Error.WriteLine($"ntrain {args[0]}: {e.Message}");
            return 2;
        }
        catch (OperationCanceledException)
        {
            Console.Error.WriteLine($"ntrain {args[0]}: cancelled.");
            return 130;
        }
        catch (Exception e) when (IsUserFacing(e))
        {
            Console.Error.WriteLine($"ntrain {args[0]}: {e.Message}");
            return 2;
        }
    }
}
