using NotebookTrainer.Datasets;
using NotebookTrainer.Optimizers;
using NotebookTrainer.Tokenizers;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace NotebookTrainer.Training;

/// <summary>What the kohya scripts train, each with the same training loop (<see cref="Trainer"/>).</summary>
public enum TrainingMethod
{
    /// <summary>train_network.py: a LoRA / LoCon / LoHa over the frozen model; writes a LoRA file.</summary>
    Network,

    /// <summary>fine_tune.py: the U-Net's own weights (and the text encoder's with train_text_encoder); writes a full checkpoint.</summary>
    FineTune,

    /// <summary>train_db.py: U-Net and text encoder weights (until stop_text_encoder_training) on identifier/class captions; writes a full checkpoint.</summary>
    DreamBooth,

    /// <summary>train_textual_inversion.py: new token embeddings only; writes an embedding file (emb_params).</summary>
    TextualInversion,
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
/// The weights a run updates and the file it writes: a LoRA-family network (<see cref="NetworkTarget"/>), the
/// model's own weights (<see cref="UnetTarget"/>) or new token embeddings (<see cref="TextualInversionTarget"/>). The
/// trainer asks the target for its parameter groups, switches it between training and sampling, keeps its tensors in
/// save_state folders and has it write its file.
/// </summary>
public abstract class TrainingTarget : IDisposable
{
    public static TrainingTarget Create(TrainingMethod method, TrainingConfig config, TrainingModels models, DatasetPlan dataset, Device device, Action<string> log) => method switch
    {
        TrainingMethod.Network => NetworkTarget.Create(config, models, device, log),
        TrainingMethod.FineTune or TrainingMethod.DreamBooth => new UnetTarget(config, models, device, method, log),
        TrainingMethod.TextualInversion => TextualInversionTarget.Create(config, models, dataset, device, log),
        _ => throw new ArgumentOutOfRangeException(nameof(method), method, null),
    };

    /// <summary>Whether <paramref name="method"/> trains the U-Net's own weights (the trainer keeps them in full precision for the target).</summary>
    public static bool TrainsUnetWeights(TrainingMethod method) => method is TrainingMethod.FineTune or TrainingMethod.DreamBooth;

    /// <summary>
    /// Whether the run trains the text encoder's own weights: fine_tune with train_text_encoder, DreamBooth unless
    /// stop_text_encoder_training is 0 or negative (sd-scripts: -1 never trains it, 0 stops it before the first step).
    /// </summary>
    public static bool TrainsTextEncoderWeights(TrainingMethod method, TrainingConfig config) => method switch
    {
        TrainingMethod.FineTune => config.TrainTextEncoder && config.StopTextEncoderTraining is null or > 0,
        TrainingMethod.DreamBooth => config.StopTextEncoderTraining is null or > 0,
        _ => false,
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

    /// <summary>What follows <c>{output_name}</c>, <c>-{epoch:06d}</c> or <c>-step{step:08d}</c> in output names: ".safetensors", or "" for a diffusers folder.</summary>
    public virtual string OutputExtension => ".safetensors";

    /// <summary>The tokenizer captions and sample prompts go through when the target adds words to it (Textual Inversion); null keeps the model's.</summary>
    public virtual ClipTokenizer? Tokenizer => null;

    /// <summary>Called before each micro-batch with the optimizer steps taken so far (stop_text_encoder_training acts here).</summary>
    public virtual void BeforeStep(int step) { }

    public abstract void SetTraining(bool training);

    /// <summary>The trained tensors by name, live (not copies).</summary>
    public abstract Dictionary<string, Tensor> StateDict();

    public abstract void LoadStateDict(IReadOnlyDictionary<string, Tensor> tensors);

    public abstract void Save(string path, SaveContext context);

    public abstract void Dispose();
}
