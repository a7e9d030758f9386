using NotebookTrainer.Checkpoints;
using NotebookTrainer.ModelConfigs;
using NotebookTrainer.Models.Vae;
using NotebookTrainer.SafeTensors;
using NotebookTrainer.Tests.Checkpoints;
using NotebookTrainer.World;
using static TorchSharp.torch;

namespace NotebookTrainer.Tests.Training;

/// <summary>A VAE shaped like the embedded model's (<see cref="WorldModel"/>) with its own random weights, written in the naming styles real VAE files use.</summary>
public static class TinyVaeFiles
{
    public enum Naming { StandaloneLdm, FullCheckpointLdm, Diffusers }

    /// <summary>A fresh VAE (seeded) and its weights under <paramref name="naming"/>, LDM attention as 1×1 convs.</summary>
    public static (AutoencoderKL Vae, List<(string Name, Tensor Tensor)> Tensors) Make(Naming naming, int seed = 123)
    {
        manual_seed(seed);
        var vae = new AutoencoderKL(WorldModel.Configs.Vae);
        var parameters = vae.named_parameters().ToDictionary(p => p.name, p => (Tensor)p.parameter);
        var tensors = new List<(string, Tensor)>();
        foreach (var m in VaeKeyMap.Build(WorldModel.Configs.Vae))
        {
            var value = parameters[m.DiffusersName].detach();
            tensors.Add(naming switch
            {
                Naming.Diffusers => (m.DiffusersName, value),
                Naming.FullCheckpointLdm => (m.LdmName, value.reshape(m.LdmShape)),
                _ => (m.LdmName[VaeKeyMap.LdmPrefix.Length..], value.reshape(m.LdmShape)),
            });
        }
        // Real VAE files carry more than the autoencoder (the GAN loss's discriminator); those keys are ignored.
        if (naming == Naming.StandaloneLdm) tensors.Add(("loss.discriminator.main.0.weight", randn(4, 3, 4, 4)));
        return (vae, tensors);
    }

    public static AutoencoderKL WriteSafeTensors(string path, Naming naming, int seed = 123)
    {
        var (vae, tensors) = Make(naming, seed);
        SafeTensorsWriter.Write(path, tensors.Select(t => KeyValuePair.Create(t.Name, t.Tensor.contiguous())));
        return vae;
    }

    public static AutoencoderKL WritePickle(string path, int seed = 123)
    {
        var (vae, tensors) = Make(Naming.StandaloneLdm, seed);
        TorchSaveWriter.Write(path, tensors);
        return vae;
    }
}
