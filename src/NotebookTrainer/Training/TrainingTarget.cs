using NotebookTrainer.Datasets;
using NotebookTrainer.Optimizers;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace NotebookTrainer.Training;

/// <summary>What the kohya scripts train, each with the same training loop (<see cref="Trainer"/>).</summary>
public enum TrainingMethod
{
    /// <summary>train_network.py: a LoRA / LoCon / LoHa over the frozen model; writes a LoRA file.</summary>
    Network,

    /// <summary>fine_tune.py: the U-Net's own weights; writes a full checkpoint in the base model's layout.</summary>
    FineTune,
}

/// <summary>Everything a target needs to write its file: the run's settings, data, plan and position.</summary>
public sealed record SaveContext(
    TrainingConfig Config,
    DatasetPlan Dataset,
    TrainingPlan Plan,
    TrainingModels Models,
    string Optimizer,
    int Epoch,
    int Step,
    DateTimeOffset StartedAt,
    DateTimeOffset? FinishedAt,
    string SessionId);

/// <summary>
/// The weights a run updates and the file it writes: a LoRA-family network (<see cref="NetworkTarget"/>) or the
/// U-Net itself (<see cref="UnetTarget"/>). The trainer asks the target for its parameter groups, switches it between
/// training and sampling, keeps its tensors in save_state folders and has it write its file.
/// </summary>
public abstract class TrainingTarget : IDisposable
{
    public static TrainingTarget Create(TrainingMethod method, TrainingConfig config, TrainingModels models, Device device, Action<string> log) => method switch
    {
        TrainingMethod.Network => NetworkTarget.Create(config, models, device, log),
        TrainingMethod.FineTune => new UnetTarget(config, models, device),
        _ => throw new ArgumentOutOfRangeException(nameof(method), method, null),
    };

    /// <summary>One line for the plan: what trains, e.g. "LoRA dim 8 alpha 4: 20 U-Net + 12 text encoder modules".</summary>
    public abstract string Description { get; }

    public abstract IReadOnlyList<ParameterGroup> ParameterGroups { get; }

    public IEnumerable<Parameter> Parameters() => ParameterGroups.SelectMany(g => g.Parameters);

    public long ParameterCount => Parameters().Sum(p => p.numel());

    /// <summary>Whether the text encoder's output needs gradients (a network with text encoder modules).</summary>
    public abstract bool TrainsTextEncoder { get; }

    /// <summary>Bytes of weights the target adds to the model's own (a network's modules; 0 when it trains model weights).</summary>
    public abstract long AddedWeightBytes { get; }

    /// <summary>The file name kind of save_state folders keep the weights in (network.safetensors, unet.safetensors).</summary>
    public abstract string StateFileName { get; }

    /// <summary>Extension and kind of what <see cref="Save"/> writes, for messages ("LoRA", "checkpoint").</summary>
    public abstract string OutputKind { get; }

    public abstract void SetTraining(bool training);

    /// <summary>The trained tensors by name, live (not copies).</summary>
    public abstract Dictionary<string, Tensor> StateDict();

    public abstract void LoadStateDict(IReadOnlyDictionary<string, Tensor> tensors);

    public abstract void Save(string path, SaveContext context);

    public abstract void Dispose();
}
