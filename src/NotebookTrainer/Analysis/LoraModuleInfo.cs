namespace NotebookTrainer.Analysis;

/// <summary>One module of a LoRA file: kohya name, U-Net/text-encoder block, algorithm, rank, alpha and ‖ΔW‖ (Frobenius, at multiplier 1).</summary>
public sealed record LoraModuleInfo(string Name, string Block, string Kind, long Rank, double Alpha, double DeltaNorm)
{
    public double Scale => Alpha / Rank;
}

/// <summary>Modules of one block (te, down 0, mid, up 3, …) with their combined norm √Σ‖ΔW‖².</summary>
public sealed record LoraBlockSummary(string Block, int Modules, double Norm, double MeanModuleNorm, string Ranks, string Alphas);
