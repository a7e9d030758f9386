using NotebookTrainer.Diffusion;
using TorchSharp;
using static TorchSharp.torch;

namespace NotebookTrainer.Training;

/// <summary>
/// sd-scripts' loss_type: "l2" (MSE), "l1", or the pseudo-Huber losses "huber" (2c(√(d²+c²)−c), quadratic for small
/// errors, linear beyond c) and "smooth_l1" (the same without the leading c), whose threshold c depends on each
/// sample's timestep through huber_schedule: "snr" ((1−huber_c)/(1+σ)² + huber_c with σ = √((1−ᾱ)/ᾱ), so c is near 1
/// on clean timesteps and near huber_c on noisy ones), "exponential" (huber_c^(t/T) · huber_scale) or "constant"
/// (huber_c · huber_scale).
/// </summary>
public sealed record LossFunction(string Type = "l2", string HuberSchedule = "snr", double HuberC = 0.1, double HuberScale = 1.0)
{
    public static readonly LossFunction L2 = new();
    public static readonly string[] Types = ["l2", "l1", "huber", "smooth_l1"];
    public static readonly string[] HuberSchedules = ["snr", "exponential", "constant"];

    public bool UsesHuberThreshold => Type is "huber" or "smooth_l1";

    /// <summary>The element-wise loss in fp32, shape of <paramref name="prediction"/>.</summary>
    public Tensor Elementwise(Tensor prediction, Tensor target, Tensor timesteps, ForwardDiffusion schedule)
    {
        using var scope = NewDisposeScope();
        var difference = prediction.to(ScalarType.Float32) - target.to(ScalarType.Float32);
        Tensor loss;
        if (Type == "l1") loss = difference.abs();
        else if (!UsesHuberThreshold) loss = difference.square();
        else
        {
            var c = Threshold(timesteps, schedule).to(difference.device).view(-1, 1, 1, 1);
            loss = 2 * ((difference.square() + c.square()).sqrt() - c);
            if (Type == "huber") loss = loss * c;
        }
        return loss.MoveToOuterDisposeScope();
    }

    /// <summary>The Huber threshold of each sample, from its timestep.</summary>
    public Tensor Threshold(Tensor timesteps, ForwardDiffusion schedule)
    {
        using var scope = NewDisposeScope();
        var t = timesteps.cpu();
        var threshold = HuberSchedule switch
        {
            "exponential" => (t.to(ScalarType.Float64) * (Math.Log(HuberC) / schedule.Steps)).exp() * HuberScale,
            "constant" => full(t.shape[0], HuberC * HuberScale, dtype: ScalarType.Float64),
            _ => SnrThreshold(schedule.AlphasCumprod.cpu().to(ScalarType.Float64).index_select(0, t)),
        };
        return threshold.to(ScalarType.Float32).MoveToOuterDisposeScope();
    }

    Tensor SnrThreshold(Tensor alphasCumprod)
    {
        var sigma = ((1 - alphasCumprod) / alphasCumprod).sqrt();
        return (1 - HuberC) / (1 + sigma).square() + HuberC;
    }
}
