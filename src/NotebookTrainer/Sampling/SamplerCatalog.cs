using NotebookTrainer.Diffusion;
using NotebookTrainer.Sampling.Samplers;

namespace NotebookTrainer.Sampling;

/// <summary>
/// Sampler names as kohya's sample prompts (<c>--ss</c>, <c>--sample_sampler</c>) and A1111 spell them, k_ aliases included.
/// </summary>
public static class SamplerCatalog
{
    /// <summary>Names accepted by <see cref="Create"/>; aliases map to the sampler named in <see cref="Describe"/>.</summary>
    public static IReadOnlyList<string> Names { get; } =
    [
        "ddim", "pndm", "lms", "euler", "euler_a", "heun", "dpm_2", "dpm_2_a", "dpmsolver", "dpmsolver++", "dpmsingle",
        "dpmsolver++_karras", "k_lms", "k_euler", "k_euler_a", "k_heun", "k_dpm_2", "k_dpm_2_a",
    ];

    public static Sampler Create(string name, NoiseSchedule schedule)
    {
        return Normalize(name) switch
        {
            "ddim" => new DdimSampler(schedule),
            // PNDM (pseudo linear multistep) is not implemented; LMS is the closest: a 4th-order linear multistep method.
            "pndm" or "lms" => new LmsSampler(schedule),
            "euler" => new EulerSampler(schedule),
            "euler_a" => new EulerAncestralSampler(schedule),
            "heun" => new HeunSampler(schedule),
            "dpm_2" => new Dpm2Sampler(schedule, ancestral: false),
            "dpm_2_a" => new Dpm2Sampler(schedule, ancestral: true),
            "dpmsolver" => new DpmSolver2MSampler(schedule),
            // dpmsingle (single-step DPM-Solver) is not implemented; the multistep DPM-Solver++ is its closest relative.
            "dpmsolver++" or "dpmsingle" => new DpmSolverPlusPlus2MSampler(schedule),
            "dpmsolver++_karras" or "dpmpp_2m_karras" => new DpmSolverPlusPlus2MSampler(schedule) { KarrasSigmas = true },
            _ => throw new ArgumentException($"unknown sampler '{name}'. Known: {string.Join(", ", Names)}."),
        };
    }

    /// <summary>The sampler a name runs, with a note where kohya's name has no exact counterpart here.</summary>
    public static string Describe(string name) => Normalize(name) switch
    {
        "pndm" => "lms (PNDM is not implemented; LMS is the closest linear multistep method)",
        "dpmsingle" => "dpmsolver++ (single-step DPM-Solver is not implemented)",
        _ => Create(name, NoiseSchedule.StableDiffusion).Name,
    };

    static string Normalize(string name)
    {
        var key = name.Trim().ToLowerInvariant();
        return key.StartsWith("k_", StringComparison.Ordinal) ? key[2..] : key;
    }
}
