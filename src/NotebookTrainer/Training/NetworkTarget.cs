using NotebookTrainer.Networks;
using NotebookTrainer.Optimizers;
using static TorchSharp.torch;

namespace NotebookTrainer.Training;

/// <summary>train_network.py's target: a LoRA / LoCon / LoHa attached to the frozen U-Net and text encoder(s) (SDXL: both).</summary>
public sealed class NetworkTarget : TrainingTarget
{
    NetworkTarget(LoraNetwork network, TrainingConfig config)
    {
        Network = network;
        ParameterGroups = network.ParameterGroups(config.LearningRate, config.UnetLr, config.TextEncoderLr);
    }

    /// <summary>A new network from the config's network settings, or the one in network_weights to continue it.</summary>
    public static NetworkTarget Create(TrainingConfig config, TrainingModels models, Device device, Action<string> log)
    {
        LoraNetwork network;
        if (config.NetworkWeights is { } weights)
        {
            network = LoraFile.Load(weights, models.Unet, models.TextEncoder, device, models.TextEncoder2).Network;
            log($"network_weights: continuing from {weights} ({network.Modules.Count()} modules).");
        }
        else network = LoraNetwork.Create(models.Unet, models.TextEncoder, config.NetworkOptions(), device, models.TextEncoder2);
        network.Attach();
        network.SetTraining(true);
        return new NetworkTarget(network, config);
    }

    public LoraNetwork Network { get; }

    public override string Description
    {
        get
        {
            var o = Network.Options;
            var conv = o.ConvDim is { } cd ? $", conv_dim {cd}" : "";
            return $"{o.Kind} dim {o.Dim} alpha {o.Alpha}{conv}: {Network.UnetModules.Count} U-Net + {Network.TextEncoderModules.Count} text encoder modules";
        }
    }

    public override IReadOnlyList<ParameterGroup> ParameterGroups { get; }

    public override bool TrainsTextEncoder => ParameterGroups.Any(g => g.Name == "text_encoder");

    public override long AddedWeightBytes => Network.ParameterCount * 4L;

    public override string StateFileName => "network.safetensors";

    public override string OutputKind => "LoRA";

    public override void SetTraining(bool training) => Network.SetTraining(training);

    public override Dictionary<string, Tensor> StateDict() => Network.StateDict();

    public override void LoadStateDict(IReadOnlyDictionary<string, Tensor> tensors) => Network.LoadStateDict(tensors);

    public override void Save(string path, SaveContext c)
    {
        var metadata = TrainingMetadata.Build(c.Config, c.Dataset, c.Plan, c.Models, c.Optimizer, c.Epoch, c.Step, c.StartedAt, c.FinishedAt, c.SessionId);
        LoraFile.Save(path, Network, LoraFile.ParsePrecision(c.Config.SavePrecision), metadata);
    }

    public override void Dispose() => Network.Dispose();
}
