using NotebookTrainer.Diffusion;
using TorchSharp;
using static TorchSharp.torch;

namespace NotebookTrainer.Training;

/// <summary>
/// kohya's LoRA loss: the element-wise loss of <see cref="LossFunction"/> (MSE by default), times the alpha mask
/// area-averaged to the latent size when there is one (sd-scripts' masked loss, not renormalised), mean over C,H,W,
/// times each sample's weight (prior_loss_weight for regularisation images), then sd-scripts' per-timestep weights in
/// its order: min-SNR-γ (ε: min(SNR,γ)/SNR; v: min(SNR,γ)/(SNR+1)), scale_v_pred_loss_like_noise_pred (× s),
/// v_pred_like_loss λ (+ λ·loss/s), debiased estimation (ε: 1/√SNR; v: 1/(SNR+1)), where s = SNR/(SNR+1) and SNR is
/// capped at 1000; mean over the batch.
/// </summary>
public static class DiffusionLoss
{
    public static Tensor Compute(Tensor prediction, Tensor target, Tensor timesteps, Tensor sampleWeights, ForwardDiffusion schedule,
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
