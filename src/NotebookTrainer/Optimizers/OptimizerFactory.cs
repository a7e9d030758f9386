namespace NotebookTrainer.Optimizers;

/// <summary>kohya's optimizer_type + optimizer_args → an optimizer.</summary>
public static class OptimizerFactory
{
    public static readonly string[] Types = ["AdamW", "AdamW8bit", "Lion", "SGDNesterov", "Prodigy", "DAdaptAdam", "Adafactor"];

    /// <param name="log">Receives notes such as the AdamW8bit substitution.</param>
    public static Optimizer Create(string? optimizerType, IReadOnlyList<ParameterGroup> groups, IEnumerable<string>? optimizerArgs = null, Action<string>? log = null)
    {
        var type = string.IsNullOrEmpty(optimizerType) ? "AdamW" : optimizerType;
        var args = new OptimizerArgs(optimizerArgs);
        Optimizer optimizer;
        switch (type.ToLowerInvariant())
        {
            case "adamw":
            case "adamw8bit":
            {
                var (b1, b2) = args.Pair("betas", (0.9, 0.999));
                var is8bit = type.Equals("AdamW8bit", StringComparison.OrdinalIgnoreCase);
                if (is8bit) log?.Invoke("AdamW8bit: bitsandbytes does not exist on .NET, training with 32-bit AdamW (same update rule, more optimizer memory).");
                optimizer = new AdamW(groups, b1, b2, args.Double("eps", 1e-8), args.Double("weight_decay", 0.01), is8bit ? "AdamW8bit" : "AdamW");
                break;
            }
            case "lion":
            {
                var (b1, b2) = args.Pair("betas", (0.9, 0.99));
                optimizer = new Lion(groups, b1, b2, args.Double("weight_decay", 0));
                break;
            }
            case "sgdnesterov":
                optimizer = new SgdNesterov(groups, args.Double("momentum", 0.9), args.Double("weight_decay", 0));
                break;
            case "prodigy":
            {
                var (b1, b2) = args.Pair("betas", (0.9, 0.999));
                optimizer = new Prodigy(groups, b1, b2, args.NullableDouble("beta3", null), args.Double("eps", 1e-8), args.Double("weight_decay", 0),
                    args.Bool("decouple", true), args.Bool("use_bias_correction", false), args.Bool("safeguard_warmup", false),
                    args.Double("d0", 1e-6), args.Double("d_coef", 1.0), args.Double("growth_rate", double.PositiveInfinity));
                break;
            }
            case "dadaptadam":
            case "dadaptation":
            {
                var (b1, b2) = args.Pair("betas", (0.9, 0.999));
                optimizer = new DAdaptAdam(groups, b1, b2, args.Double("eps", 1e-8), args.Double("weight_decay", 0), args.Bool("decouple", false),
                    args.Bool("use_bias_correction", false), args.Double("d0", 1e-6), args.Double("growth_rate", double.PositiveInfinity));
                break;
            }
            case "adafactor":
            {
                var relativeStep = args.Bool("relative_step", true);
                optimizer = new Adafactor(groups, args.Double("eps", 1e-30), args.Double("eps2", 1e-3), args.Double("clip_threshold", 1.0),
                    args.Double("decay_rate", -0.8), args.NullableDouble("beta1", null), args.Double("weight_decay", 0),
                    args.Bool("scale_parameter", true), relativeStep, args.Bool("warmup_init", false));
                if (relativeStep) log?.Invoke("Adafactor: relative_step=True, so the learning rate comes from the optimizer (min(1e-2, 1/sqrt(step))) and the lr scheduler is not used.");
                break;
            }
            default:
                throw new ArgumentException($"optimizer_type \"{type}\" is not supported; use one of {string.Join(", ", Types)}.");
        }
        args.EnsureAllUsed(optimizer.Name);
        return optimizer;
    }
}
