using NotebookTrainer.ModelConfigs;
using static TorchSharp.torch;

namespace NotebookTrainer.Checkpoints;

/// <summary>
/// A separate VAE file (kohya's <c>vae</c> argument): a standalone LDM VAE (<c>encoder.down.0…</c>, e.g. vae-ft-mse or
/// an anime .vae.pt), a full checkpoint's <c>first_stage_model.*</c>, or diffusers AutoencoderKL names; .safetensors,
/// or .pt/.ckpt through the restricted unpickler. Other keys in the file (a GAN discriminator, a U-Net) are ignored.
/// </summary>
public static class VaeFile
{
    /// <summary>The file's VAE weights under diffusers names for a VAE of <paramref name="config"/>, in float32.</summary>
    public static Dictionary<string, Tensor> Load(string path, AutoencoderKLConfig config)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: no such VAE file.", path);
        var isPickle = CheckpointLoader.PickleExtensions.Contains(Path.GetExtension(path).ToLowerInvariant()) || PickleCheckpoint.LooksLikePickle(path);
        using ITensorSource source = isPickle ? PickleCheckpoint.Open(path) : SafeTensorsSource.Open(path);

        var found = new List<(KeyMapping Mapping, string Stored)>();
        var missing = new List<string>();
        var misShaped = new List<string>();
        foreach (var mapping in VaeKeyMap.Build(config))
        {
            var stored = StoredNames(mapping).FirstOrDefault(source.Names.Contains);
            if (stored is null) { missing.Add(mapping.LdmName[VaeKeyMap.LdmPrefix.Length..]); continue; }
            var shape = source.Shape(stored);
            if (!shape.SequenceEqual(mapping.Shape) && !shape.SequenceEqual(mapping.LdmShape))
                misShaped.Add($"{stored} is [{string.Join(", ", shape)}], expected [{string.Join(", ", mapping.Shape)}]");
            found.Add((mapping, stored));
        }
        if (found.Count == 0)
            throw new CheckpointFormatException($"{path}: no VAE weights in this file (looked for encoder.conv_in.weight, first_stage_model.encoder.conv_in.weight and diffusers names); give an SD 1.x/2.x VAE file.");
        if (missing.Count > 0 || misShaped.Count > 0)
            throw new CheckpointFormatException($"{path}: this VAE does not fit the base model's VAE"
                + (missing.Count > 0 ? $"; {missing.Count} tensors missing (first: {string.Join(", ", missing.Take(3))})" : "")
                + (misShaped.Count > 0 ? $"; {misShaped.Count} with other shapes (first: {string.Join("; ", misShaped.Take(3))})" : "")
                + ". Use an SD 1.x/2.x VAE (SDXL and SD3 VAEs differ), or remove vae to keep the base model's.");

        var weights = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        try
        {
            foreach (var (mapping, stored) in found)
            {
                var tensor = source.Load(stored, ScalarType.Float32);
                weights[mapping.DiffusersName] = tensor.shape.SequenceEqual(mapping.Shape) ? tensor : Reshaped(tensor, mapping.Shape);
            }
            return weights;
        }
        catch
        {
            foreach (var t in weights.Values) t.Dispose();
            throw;
        }
    }

    static Tensor Reshaped(Tensor tensor, long[] shape)
    {
        var result = tensor.reshape(shape).contiguous();
        tensor.Dispose();
        return result;
    }

    /// <summary>Where a VAE tensor may be stored: in a full LDM checkpoint, in a standalone LDM VAE, or under diffusers names.</summary>
    static IEnumerable<string> StoredNames(KeyMapping mapping)
    {
        yield return mapping.LdmName;
        yield return mapping.LdmName[VaeKeyMap.LdmPrefix.Length..];
        foreach (var name in CheckpointLoader.DiffusersAliases(mapping.DiffusersName)) yield return name;
    }
}
