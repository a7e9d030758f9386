using TorchSharp;
using static TorchSharp.torch;

namespace NotebookTrainer.Training;

/// <summary>
/// kohya's LoRA loss: element-wise MSE, mean over C,H,W, times each sample's weight (prior_loss_weight for
/// regularisation images), times the min-SNR-γ weight (ε: min(SNR,γ)/SNR; v: min(SNR,γ)/(SNR+1)), times the
/// debiased-estimation weight (ε: 1/√SNR; v: 1/(SNR+1); SNR capped at 1000), mean over the batch.
/// </summary>
public static class DiffusionLoss
{
    public static Tensor Compute(Tensor prediction, Tensor target, Tensor timesteps, Tensor sampleWeights, NoiseSchedule schedule,
        double? minSnrGamma = null, bool vParameterization = false, bool debiasedEstimation = false)
    {
        using var scope = NewDisposeScope();
        var perSample = (prediction.to(ScalarType.Float32) - target.to(ScalarType.Float32)).square().mean([1, 2, 3]);
        perSample = perSample * sampleWeights.to(perSample.device);
        if (minSnrGamma is { } gamma)
        {
            var snr = schedule.Snr.to(perSample.device).index_select(0, timesteps.to(perSample.device));
            var weight = snr.clamp_max(gamma) / (vParameterization ? snr + 1 : snr);
            perSample = perSample * weight.to(ScalarType.Float32);
        }
        if (debiasedEstimation)
        {
            var snr = schedule.Snr.to(perSample.device).index_select(0, timesteps.to(perSample.device)).clamp_max(1000);
            var weight = vParameterization ? 1 / (snr + 1) : 1 / snr.sqrt();
            perSample = perSample * weight.to(ScalarType.Float32);
        }
        return perSample.mean().MoveToOuterDisposeScope();
    }
}
