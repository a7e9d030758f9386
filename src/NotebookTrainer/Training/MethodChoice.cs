using System.Globalization;
using NotebookTrainer.Datasets;
using NotebookTrainer.World;

namespace NotebookTrainer.Training;

/// <summary>
/// The methods notebooks 04 and 05 offer under one name each (<c>method = "dreambooth"</c>): which trainer runs and
/// the keys that make a shared training config that method. Everything else in the config stays as it is.
/// </summary>
public static class MethodChoice
{
    public static IReadOnlyList<string> Names { get; } = ["lora", "locon", "loha", "dreambooth", "finetune", "textual-inversion"];

    public static TrainingMethod MethodOf(string name) => Check(name) switch
    {
        "dreambooth" => TrainingMethod.DreamBooth,
        "finetune" => TrainingMethod.FineTune,
        "textual-inversion" => TrainingMethod.TextualInversion,
        _ => TrainingMethod.Network,
    };

    /// <summary>Whether the method trains on DreamBooth folders with regularisation images (04 adds the reg subset).</summary>
    public static bool UsesRegularization(string name) => Check(name) == "dreambooth";

    /// <summary>
    /// A learning rate that teaches the sample set's concept to the embedded model in a few hundred steps: the
    /// networks' 2e-3 (with alpha = dim), lower for the model's own weights, higher for Textual Inversion's few vectors.
    /// </summary>
    public static double LearningRate(string name) => MethodOf(name) switch
    {
        TrainingMethod.DreamBooth or TrainingMethod.FineTune => 2e-4,
        TrainingMethod.TextualInversion => 5e-3,
        _ => 2e-3,
    };

    /// <summary>
    /// Sets the method's keys: the network module and its args for lora / locon (conv_dim and conv_alpha half the
    /// network's) / loha (conv_dim = network_dim); the U-Net alone for DreamBooth (stop_text_encoder_training = -1 unless set);
    /// token_string (the sample set's activation tag unless set) and init_word (heart unless set) for Textual
    /// Inversion, whose file is named after its word as A1111 expects. Returns the trainer to run.
    /// </summary>
    public static TrainingMethod Apply(string name, TrainingConfig config)
    {
        var dim = config.NetworkDim.ToString(CultureInfo.InvariantCulture);
        var alpha = (config.NetworkAlpha ?? config.NetworkDim).ToString(CultureInfo.InvariantCulture);
        switch (Check(name))
        {
            case "lora":
                (config.NetworkModule, config.NetworkArgs) = ("networks.lora", []);
                break;
            case "locon":   // the convs at half the network's rank and alpha, as kohya-colab's LoCon preset
                (config.NetworkModule, config.NetworkArgs) = ("networks.lora", [$"conv_dim={Half(config.NetworkDim)}", $"conv_alpha={Half(config.NetworkAlpha ?? config.NetworkDim)}"]);
                break;
            case "loha":
                (config.NetworkModule, config.NetworkArgs) = ("lycoris.kohya", ["algo=loha", $"conv_dim={dim}", $"conv_alpha={alpha}"]);
                break;
            // The U-Net alone unless the config says otherwise: the embedded base's text encoder never trained (pretraining
            // kept its seeded init), and training it here taught the concept less and cost the seen prompts more.
            case "dreambooth":
                config.StopTextEncoderTraining ??= -1;
                break;
            case "textual-inversion":
                config.TokenString ??= SampleDataset.ActivationTag;
                config.InitWord ??= SampleDataset.ConceptShape;
                config.OutputName = config.TokenString;
                break;
        }
        return MethodOf(name);
    }

    static string Half(double value) => Math.Max(1, Math.Round(value / 2)).ToString(CultureInfo.InvariantCulture);

    static string Check(string name) => Names.Contains(name) ? name
        : throw new ArgumentException($"method = \"{name}\" is not one of {string.Join(", ", Names.Select(n => $"\"{n}\""))}.", nameof(name));
}
