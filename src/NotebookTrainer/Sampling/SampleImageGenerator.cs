using System.Diagnostics;
using NotebookTrainer.IO;
using NotebookTrainer.Networks;
using NotebookTrainer.Progress;
using TorchSharp;
using static TorchSharp.torch;

namespace NotebookTrainer.Sampling;

/// <summary>Where and how a sampling run writes: <c>{OutputDir}/sample/{OutputName}_{Epoch:06d}_{idx:02d}_{timestamp}.png</c>.</summary>
public sealed record SampleRunOptions(string OutputDir, string OutputName, int Epoch)
{
    /// <summary>Used for prompts without <c>--ss</c> (kohya's --sample_sampler default).</summary>
    public string DefaultSampler { get; init; } = "ddim";
    /// <summary>Overrides every prompt's sampler (the CLI's --sampler).</summary>
    public string? Sampler { get; init; }
    /// <summary>Overrides every prompt's steps (the CLI's --steps).</summary>
    public int? Steps { get; init; }
    /// <summary>Seed for prompts without <c>--d</c>: prompt i gets Seed + i. Null: a random seed per image.</summary>
    public long? Seed { get; init; }
    /// <summary>Write PNG files (false: keep the images in memory only).</summary>
    public bool WriteFiles { get; init; } = true;
}

/// <summary>
/// kohya's sample_images: text encoder + U-Net + VAE decode for each prompt, classifier-free guidance with the
/// negative prompt, one torch Generator per image seeded from the prompt's seed (initial noise on the CPU so a
/// seed gives the same image on any device), LoRA networks applied through their hooks at the given weights.
/// </summary>
public sealed class SampleImageGenerator(DiffusionPipeline pipeline)
{
    public DiffusionPipeline Pipeline { get; } = pipeline;

    public SampleSet Run(IReadOnlyList<SamplePrompt> prompts, SampleRunOptions options, IReadOnlyList<(LoraNetwork Network, float Weight)>? loras = null,
        IProgress<ProgressUpdate>? progress = null, CancellationToken cancellation = default)
    {
        var clock = Stopwatch.StartNew();
        var tracker = new ProgressTracker("sampling", prompts.Count, progress);
        var images = new List<GeneratedImage>();
        var timestamp = DateTime.Now;
        var random = new Random();
        using var applied = ApplyLoras(loras);
        for (var i = 0; i < prompts.Count; i++)
        {
            cancellation.ThrowIfCancellationRequested();
            var prompt = prompts[i];
            var seed = prompt.Seed ?? (options.Seed is { } s ? s + i : random.NextInt64(0, uint.MaxValue));
            var sampler = options.Sampler ?? prompt.Sampler ?? options.DefaultSampler;
            var steps = options.Steps ?? prompt.Steps;
            var png = GeneratePng(prompt, seed, sampler, steps, cancellation);
            string? path = null;
            if (options.WriteFiles)
            {
                path = System.IO.Path.Combine(options.OutputDir, SampleFileName.Folder, SampleFileName.Format(options.OutputName, options.Epoch, i, timestamp));
                AtomicFile.WriteAllBytes(path, png);
            }
            images.Add(new GeneratedImage(prompt, seed, SamplerCatalog.Create(sampler, Pipeline.Schedule).Name, steps, png, path));
            tracker.Advance(detail: prompt.Prompt);
        }
        return new SampleSet(images, clock.Elapsed);
    }

    /// <summary>One image as PNG bytes.</summary>
    public byte[] GeneratePng(SamplePrompt prompt, long seed, string samplerName, int steps, CancellationToken cancellation = default)
    {
        using var scope = NewDisposeScope();
        using var image = Generate(prompt, seed, samplerName, steps, cancellation);
        using var bitmap = ImageTensors.ToBitmap(image[0]);
        return ImageTensors.ToPng(bitmap);
    }

    /// <summary>One image (1, 3, H, W) in [−1, 1]; the caller owns it.</summary>
    public Tensor Generate(SamplePrompt prompt, long seed, string samplerName, int steps, CancellationToken cancellation = default)
    {
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        var sampler = SamplerCatalog.Create(samplerName, Pipeline.Schedule);
        var device = Pipeline.Device ?? CPU;
        var (conditioning, unconditioning) = Pipeline.Prompts.EmbedPair(prompt.Prompt, prompt.NegativePrompt);
        var model = ClassifierFreeGuidance.Guide(Pipeline.Unet, conditioning.To(device), unconditioning.To(device), prompt.CfgScale);
        var generator = new Generator(unchecked((ulong)seed));
        var latentShape = new long[] { 1, Pipeline.LatentChannels, prompt.Height / Pipeline.VaeScaleFactor, prompt.Width / Pipeline.VaeScaleFactor };
        var noise = randn(latentShape, generator: generator).to(device);
        var latents = sampler.Sample(model, noise, steps, generator, cancellation: cancellation);
        var image = Pipeline.DecodeLatents(latents / Pipeline.LatentScale);
        latents.Dispose();
        return image.MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Several images in one batch, (N, 3, H, W) in [−1, 1]; the caller owns it. The prompts must share size, CFG scale
    /// and negative prompt. Each image starts from its own seed's noise, so with a deterministic sampler (ddim, euler,
    /// dpmsolver++, …) each equals, up to float rounding, what <see cref="Generate"/> makes from that prompt and seed;
    /// a stochastic sampler draws its later noise for the whole batch from the first seed.
    /// </summary>
    public Tensor GenerateBatch(IReadOnlyList<(SamplePrompt Prompt, long Seed)> items, string samplerName, int steps, CancellationToken cancellation = default)
    {
        if (items.Count == 0) throw new ArgumentException("no prompts to sample", nameof(items));
        var first = items[0].Prompt;
        if (items.Any(i => i.Prompt.Width != first.Width || i.Prompt.Height != first.Height || i.Prompt.CfgScale != first.CfgScale || i.Prompt.NegativePrompt != first.NegativePrompt))
            throw new ArgumentException("a batch's prompts must share width, height, CFG scale and negative prompt; sample the others in their own batch.", nameof(items));
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        var sampler = SamplerCatalog.Create(samplerName, Pipeline.Schedule);
        var device = Pipeline.Device ?? CPU;
        var pairs = items.Select(i => Pipeline.Prompts.EmbedPair(i.Prompt.Prompt, i.Prompt.NegativePrompt)).ToList();
        var windows = pairs.Max(p => p.Conditioning.States.shape[1]);
        if (pairs.Any(p => p.Conditioning.States.shape[1] != windows))
            throw new ArgumentException("a batch's prompts must tokenize to the same number of 75-token windows; sample long prompts in their own batch.", nameof(items));
        var model = ClassifierFreeGuidance.Guide(Pipeline.Unet, PromptConditioning.Cat(pairs.Select(p => p.Conditioning).ToList()).To(device),
            PromptConditioning.Cat(pairs.Select(p => p.Unconditioning).ToList()).To(device), first.CfgScale);
        var latentShape = new long[] { 1, Pipeline.LatentChannels, first.Height / Pipeline.VaeScaleFactor, first.Width / Pipeline.VaeScaleFactor };
        var generators = items.Select(i => new Generator(unchecked((ulong)i.Seed))).ToList();
        var noise = cat(generators.Select(g => randn(latentShape, generator: g)).ToList()).to(device);
        var latents = sampler.Sample(model, noise, steps, generators[0], cancellation: cancellation);
        foreach (var g in generators) g.Dispose();
        return Pipeline.DecodeLatents(latents / Pipeline.LatentScale).MoveToOuterDisposeScope();
    }

    /// <summary>Attaches each network at its weight until the result is disposed, which restores them as they were.</summary>
    public static IDisposable ApplyLoras(IReadOnlyList<(LoraNetwork Network, float Weight)>? loras) => new LoraApplication(loras ?? []);

    /// <summary>Attaches each network at its weight and restores the previous state on dispose.</summary>
    sealed class LoraApplication : IDisposable
    {
        readonly List<(LoraNetwork Network, float PreviousMultiplier)> applied = [];

        public LoraApplication(IReadOnlyList<(LoraNetwork Network, float Weight)> loras)
        {
            foreach (var (network, weight) in loras)
            {
                applied.Add((network, network.Multiplier));
                network.Multiplier = weight;
                network.SetTraining(false);
                network.Attach();
            }
        }

        public void Dispose()
        {
            foreach (var (network, previous) in applied)
            {
                network.Detach();
                network.Multiplier = previous;
            }
        }
    }
}
