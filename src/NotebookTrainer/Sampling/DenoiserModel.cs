using static TorchSharp.torch;

namespace NotebookTrainer.Sampling;

/// <summary>
/// The network as a sampler sees it: the DDPM sample x_t (what the U-Net is trained on) and a timestep (fractional
/// for k-samplers) → the model output, ε or v according to the schedule's prediction type. Conditioning and
/// classifier-free guidance are bound in beforehand (<see cref="ClassifierFreeGuidance"/>).
/// </summary>
public delegate Tensor DenoiserModel(Tensor sample, Tensor timestep);

/// <summary>A conditional network such as the U-Net: (x_t, timestep, the prompts' conditioning) → ε or v.</summary>
public delegate Tensor ConditionalDenoiser(Tensor sample, Tensor timestep, PromptConditioning conditioning);
