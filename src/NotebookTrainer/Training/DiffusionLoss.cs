using TorchSharp;
using static TorchSharp.torch;

namespace NotebookTrainer.Training;

/// <summary>
/// kohya's LoRA loss: the element-wise loss of <see cref="LossFunction"/> (MSE by default), times the alpha mask
/// averaged down to the latent size when there is one (sd-scripts' masked loss: not renormalised), mean over C,H,W, times each sample's weight (prior_loss_weight for
/// regularisation images), then sd-scripts' per-timestep weights in its order: min-SNR-γ (ε: min(SNR,γ)/SNR;
/// v: min(SNR,γ)/(SNR+1)), scale_v_pred_loss_like_noise_pred (× s), v_pred_like_loss λ (+ λ·loss/s), debiased
/// estimation (ε: 1/√SNR; v: 1/(SNR+1)), where s = SNR/(SNR+1) and SNR is capped at 1000; mean over the batch.
/// </summary>
public static class DiffusionLoss
{
    public static Tensor Compute(Tensor prediction, Tensor target, Tensor timesteps, Tensor sampleWeights, NoiseSchedule schedule,
        double? minSnrGamma = null, bool vParameterization = false, bool debiasedEstimation = false,
        bool scaleVPredLikeNoisePred = false, double? vPredLikeLoss = null, LossFunction? lossFunction = null, Tensor? alphaMasks = null)
    {
        using var scope = NewDisposeScope();
        var elementwise = (lossFunction ?? LossFunction.L2).Elementwise(prediction, target, timesteps, schedule);
        if (alphaMasks is not null)
            elementwise = elementwise * nn.functional.adaptive_avg_pool2d(alphaMasks.to(ScalarType.Float32).unsqueeze(1), [elementwise.shape[2], elementwise.shape[3]]);
        var perSample = elementwise.mean([1, 2, 3]);
        perSample = perSample * sampleWeights.to(perSample.device);
        if (minSnrGamma is { } gamma)
        {
            var snr = schedule.Snr.to(perSample.device).index_select(0, timesteps.to(perSample.device));
            var weight = snr.clamp_max(gamma) / (vParameterization ? snr + 1 : snr);
            perSample = perSample * weight.to(ScalarType.Float32);
        }
        var cappedSnr = schedule.Snr.to(perSample.device).index_select(0, timesteps.to(perSample.device)).clamp_max(1000);
        var vScale = (cappedSnr / (cappedSnr + 1)).to(ScalarType.Float32);
        if (scaleVPredLikeNoisePred) perSample = perSample * vScale;
        if (vPredLikeLoss is { } lambda) perSample = perSample + perSample / vScale * lambda;
        if (debiasedEstimation)
        {
            var weight = vParameterization ? 1 / (cappedSnr + 1) : 1 / cappedSnr.sqrt();
            perSample = perSample * weight.to(ScalarType.Float32);
        }
        return perSample.mean().MoveToOuterDisposeScope();
    }
}

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
    public Tensor Elementwise(Tensor prediction, Tensor target, Tensor timesteps, NoiseSchedule schedule)
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
    public Tensor Threshold(Tensor timesteps, NoiseSchedule schedule)
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
