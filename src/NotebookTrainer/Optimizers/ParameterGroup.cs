using static TorchSharp.torch;
using TorchSharp.Modules;

namespace NotebookTrainer.Optimizers;

/// <summary>
/// Parameters that share a learning rate (kohya: one group for U-Net LoRA modules at unet_lr, one for the
/// text encoder at text_encoder_lr). Schedulers set <see cref="LearningRate"/> from <see cref="InitialLearningRate"/>.
/// </summary>
public sealed class ParameterGroup
{
    public ParameterGroup(string name, IReadOnlyList<Parameter> parameters, double learningRate)
    {
        Name = name;
        Parameters = parameters;
        InitialLearningRate = learningRate;
        LearningRate = learningRate;
    }

    public string Name { get; }
    public IReadOnlyList<Parameter> Parameters { get; }
    public double InitialLearningRate { get; }
    public double LearningRate { get; set; }
}
