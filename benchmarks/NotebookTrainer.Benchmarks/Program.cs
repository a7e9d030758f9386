using NotebookTrainer.Benchmarks;

var benchmarks = new Dictionary<string, (string Description, Action<string[]> Run)>
{
    ["dataset-inspect"] = ("dataset inspect throughput on 10,000 generated images", a => DatasetInspectBenchmark.Run(a)),
    ["lora-train"] = ("LoRA training steps/s and peak memory, tiny and small configs, frozen fp32 vs bf16", LoraTrainingSteps.Run),
    ["tagging"] = ("WD14 tagging end to end vs bare InferenceSession.Run [--images 32] [--side 448|64] [--batch 8] [--gmac 60]", a => TaggingBenchmark.Run(a)),
    ["world-tagger"] = ("world judge: training time per phase and accuracy per attribute on fresh scenes [--steps N] [--images N] [--test-images N] [--seed N]", WorldTaggerBenchmark.Run),
    ["checkpoint-load"] = ("SD1.5-shaped single file: fp16 vs fp32 load time and peak RSS [temp folder]", a => CheckpointLoadBenchmark.Run(a)),
    ["matmul-peak"] = ("large fp32/bf16 matmul: the machine's achievable FLOP/s", MatmulPeak.Run),
    ["tensorboard"] = ("TensorBoard event files: our writer vs TorchSharp's SummaryWriter, µs per step and the wall time recorded [steps]", TensorBoardWriters.Run),
    ["thread-wait"] = ("idle-thread policy (sleep, spin 300k, spin) alone, beside a busy thread and beside a second training process: world U-Net step ms", ThreadWaitBenchmark.Run),
    ["tiny-step"] = ("tiny SD model: U-Net forward+backward step time [batch] [world: the embedded default's U-Net, 8x8 latents]", TinyModelStep.Run),
    ["load-memory"] = ("SD1.5-shaped fp16 file loaded as bf16/fp16/fp32: peak RSS vs weight bytes", LoadMemory.Run),
    ["sampling"] = ("tiny model sampling: ms per image and U-Net evaluations/s per sampler [--side 64] [--steps 20] [--images 4] [--threads N]", SamplingBenchmark.Run),
    ["prepare-buckets"] = ("fine-tune prepare-buckets with an SD1.5-config VAE: s/image, peak RSS, npz read-back [--images 8] [--resolution 512] [--batch 1]", PrepareBucketsBenchmark.Run),
    ["pretrain"] = ("every phase of ntrain pretrain at a fraction of its size: seconds per phase, crops/s and samples/s [output folder to keep]", PretrainingBenchmark.Run),
    ["full-unet-step"] = ("DreamBooth/fine-tune step of the SD1.5-config U-Net at 256 px: AdamW fp32 vs bf16 + Adafactor vs gradient checkpointing, s/step and peak RSS [--steps 3] [--only 1|2|3]", FullUnetStep.Run),
    ["unet-step"] = ("SD1.5-config U-Net forward+backward at 32x32 latents vs matmul peak and PyTorch [fp32|bf16] [--reference benchmarks/reference/unet_step.py JSON]", UNetStep.Run),
};

if (args.Length == 0 || !benchmarks.TryGetValue(args[0], out var benchmark))
{
    Console.WriteLine("usage: NotebookTrainer.Benchmarks <benchmark> [args]");
    foreach (var (name, (description, _)) in benchmarks)
        Console.WriteLine($"  {name,-14} {description}");
    return args.Length == 0 ? 0 : 2;
}
// Touching the library first applies its native settings before the first torch call.
Console.WriteLine($"libtorch {NotebookTrainer.Runtime.TorchRuntime.LibTorchVersion}, {TorchSharp.torch.get_num_threads()} threads; idle threads: {NotebookTrainer.Runtime.TorchRuntime.ThreadWaiting}");
benchmark.Run(args[1..]);
return 0;
