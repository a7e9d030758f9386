using NotebookTrainer.Diffusion;
using static TorchSharp.torch;

namespace NotebookTrainer.Sampling.Samplers;

/// <summary>
/// Linear multistep (k-diffusion's sample_lms, order 4): the step integrates the Lagrange polynomial through the
/// last derivatives over [σᵢ, σᵢ₊₁]. The polynomial has degree ≤ 3, so Simpson's rule integrates it exactly.
/// </summary>
public sealed class LmsSampler(NoiseSchedule schedule, int order = 4) : KDiffusionSampler(schedule)
{
    public int Order { get; } = order is >= 1 and <= 4 ? order : throw new ArgumentOutOfRangeException(nameof(order), order, "LMS order must be 1 to 4.");
    public override string Name => "lms";

    protected override Tensor Integrate(Func<Tensor, double, Tensor> denoise, Tensor x, double[] sigmas, SamplerContext context)
    {
        var derivatives = new List<Tensor>();   // newest last
        try
        {
            for (var i = 0; i < sigmas.Length - 1; i++)
            {
                using var scope = NewDisposeScope();
                var derivative = ((x - denoise(x, sigmas[i])) / sigmas[i]).DetachFromDisposeScope();
                derivatives.Add(derivative);
                if (derivatives.Count > Order)
                {
                    derivatives[0].Dispose();
                    derivatives.RemoveAt(0);
                }
                var order = Math.Min(i + 1, Order);
                var next = x;
                for (var j = 0; j < order; j++)
                    next = next + derivatives[^(j + 1)] * Coefficient(sigmas, i, order, j);
                Replace(ref x, next);
                context.Finished(i + 1);
            }
            return x;
        }
        finally
        {
            foreach (var d in derivatives) d.Dispose();
        }
    }

    /// <summary>∫ from σᵢ to σᵢ₊₁ of the Lagrange basis polynomial of the derivative taken at σᵢ₋ⱼ.</summary>
    public static double Coefficient(double[] sigmas, int i, int order, int j)
    {
        double Basis(double tau)
        {
            var product = 1.0;
            for (var k = 0; k < order; k++)
                if (k != j) product *= (tau - sigmas[i - k]) / (sigmas[i - j] - sigmas[i - k]);
            return product;
        }
        var (a, b) = (sigmas[i], sigmas[i + 1]);
        return (b - a) / 6 * (Basis(a) + 4 * Basis(0.5 * (a + b)) + Basis(b));
    }
}
