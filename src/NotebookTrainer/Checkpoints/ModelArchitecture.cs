namespace NotebookTrainer.Checkpoints;

public enum ModelArchitecture
{
    Unknown,
    StableDiffusion1,
    StableDiffusion2,
    StableDiffusionXL,
    StableDiffusion3,
    Flux,
    /// <summary>A LoRA/LyCORIS network file, not a base model.</summary>
    LoRA,
    /// <summary>Only VAE weights (a standalone <c>vae-ft-mse</c>-style file).</summary>
    StandaloneVae,
}
