using System.Text.Json;
using System.Text.Json.Nodes;
using NotebookTrainer.IO;
using NotebookTrainer.SafeTensors;
using TorchSharp;
using static TorchSharp.torch;

namespace NotebookTrainer.Checkpoints;

/// <summary>Saves SD1/SD2/SDXL weights as one LDM/sgm-layout .safetensors file (A1111/ComfyUI) or as a diffusers folder.</summary>
public static class CheckpointWriter
{
    /// <summary>
    /// Writes the single-file layout. Passthrough keys and metadata from the source are kept, so loading a file and
    /// writing it back reproduces it bit for bit (in the standard <c>text_model.</c> naming).
    /// </summary>
    public static void WriteSingleFile(StableDiffusionWeights weights, string path, ScalarType? dtype = null, IReadOnlyDictionary<string, string>? metadata = null)
    {
        using var scope = NewDisposeScope();
        var tensors = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var group in SingleFileLayout.Mappings(weights.Architecture, weights.Configs).GroupBy(m => m.LdmName))
        {
            var parts = group.Select(m => Component(weights, m)).ToList();
            var first = group.First();
            tensors[group.Key] = Convert(first.Transform switch
            {
                KeyTransform.ConvToLinear => parts[0].reshape(first.LdmShape),
                KeyTransform.QkvSplit => torch.cat(group.OrderBy(m => m.Part).Select(m => Component(weights, m)).ToList(), 0),
                KeyTransform.Transpose => parts[0].t().contiguous(),
                _ => parts[0],
            }, dtype);
        }
        foreach (var (name, tensor) in weights.Passthrough)
            tensors[name] = tensor;
        SafeTensorsWriter.Write(path, tensors, metadata ?? weights.Metadata);
    }

    /// <summary>
    /// Writes <paramref name="weights"/> as a single file with exactly the key set and names of the single-file
    /// checkpoint <paramref name="template"/> (e.g. the base model a run trained): every mapped tensor under the name the
    /// template stores it (with or without <c>text_model.</c>), and the template's other keys (schedule buffers,
    /// position_ids, EMA copies, anything unrecognised) copied unchanged in their own dtype, as sd-scripts'
    /// save_stable_diffusion_checkpoint does. <paramref name="dtype"/> converts the mapped floating tensors only.
    /// </summary>
    public static void WriteSingleFileLike(string template, StableDiffusionWeights weights, string path, ScalarType? dtype = null, IReadOnlyDictionary<string, string>? metadata = null)
    {
        using var analysis = CheckpointLoader.Analyze(template);
        analysis.ThrowIfNotLoadable();
        if (analysis.Format == CheckpointFormat.DiffusersFolder)
            throw new ArgumentException($"{template} is a diffusers folder, not a single-file checkpoint; use WriteSingleFile for the standard layout.", nameof(template));
        var source = analysis.Sources[0];
        using var scope = NewDisposeScope();
        var tensors = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var group in analysis.Resolved.GroupBy(r => r.StoredName))
        {
            var first = group.First().Mapping;
            tensors[group.Key] = Convert(first.Transform switch
            {
                KeyTransform.ConvToLinear => Component(weights, first).reshape(first.LdmShape),
                KeyTransform.QkvSplit => torch.cat(group.OrderBy(r => r.Mapping.Part).Select(r => Component(weights, r.Mapping)).ToList(), 0),
                KeyTransform.Transpose => Component(weights, first).t().contiguous(),
                _ => Component(weights, first),
            }, dtype);
        }
        foreach (var name in analysis.PassthroughKeys.Concat(analysis.IgnoredKeys).Concat(analysis.UnexpectedKeys))
            tensors[name] = source.Load(name);
        SafeTensorsWriter.Write(path, tensors, metadata ?? weights.Metadata);
    }

    /// <summary>
    /// Writes unet/, vae/, text_encoder/ (and SDXL's text_encoder_2/) (config.json + safetensors), scheduler/ and
    /// model_index.json, and copies the tokenizer folder when the weights came with one.
    /// </summary>
    public static void WriteDiffusersFolder(StableDiffusionWeights weights, string dir, ScalarType? dtype = null)
    {
        var sdxl = weights.Architecture == ModelArchitecture.StableDiffusionXL;
        foreach (var component in StableDiffusionWeights.ComponentNamesOf(weights.Architecture))
        {
            var file = component is StableDiffusionWeights.TextEncoderComponent or StableDiffusionWeights.TextEncoder2Component ? "model.safetensors" : "diffusion_pytorch_model.safetensors";
            using var scope = NewDisposeScope();
            var converted = weights.Components[component].ToDictionary(kv => kv.Key, kv => Convert(kv.Value, dtype), StringComparer.Ordinal);
            SafeTensorsWriter.Write(Path.Combine(dir, component, file), converted, null);
        }
        weights.Configs.Write(dir);
        if (weights.TokenizerDir is { } tokenizer)
            foreach (var file in Directory.GetFiles(tokenizer))
                AtomicFile.WriteAllBytes(Path.Combine(dir, "tokenizer", Path.GetFileName(file)), File.ReadAllBytes(file));
        var index = new JsonObject
        {
            ["_class_name"] = sdxl ? "StableDiffusionXLPipeline" : "StableDiffusionPipeline",
            ["scheduler"] = new JsonArray("diffusers", weights.Configs.Scheduler?["_class_name"]?.GetValue<string>() ?? "PNDMScheduler"),
            ["text_encoder"] = new JsonArray("transformers", "CLIPTextModel"),
            ["tokenizer"] = new JsonArray("transformers", "CLIPTokenizer"),
            ["unet"] = new JsonArray("diffusers", "UNet2DConditionModel"),
            ["vae"] = new JsonArray("diffusers", "AutoencoderKL"),
        };
        if (sdxl)
        {
            index["text_encoder_2"] = new JsonArray("transformers", "CLIPTextModelWithProjection");
            index["tokenizer_2"] = new JsonArray("transformers", "CLIPTokenizer");
        }
        AtomicFile.WriteAllText(Path.Combine(dir, "model_index.json"), index.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
    }

    static Tensor Component(StableDiffusionWeights weights, KeyMapping mapping) =>
        weights.Components[mapping.Component].TryGetValue(mapping.DiffusersName, out var tensor)
            ? tensor
            : throw new CheckpointFormatException($"cannot write the single file: {mapping.Component} has no tensor '{mapping.DiffusersName}' (needed for '{mapping.LdmName}').");

    static Tensor Convert(Tensor tensor, ScalarType? dtype) =>
        dtype is { } d && tensor.is_floating_point() && tensor.dtype != d ? tensor.to_type(d) : tensor;
}
