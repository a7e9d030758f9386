using System.Text.Json.Nodes;
using NotebookTrainer.Checkpoints;
using NotebookTrainer.SafeTensors;
using TorchSharp;
using static TorchSharp.torch;

namespace NotebookTrainer.Tests.Checkpoints;

/// <summary>
/// Real SD1/SD2/SDXL single files with the real key names at small widths: a config folder shrinks the channel
/// counts (cross-attention keeps 768/1024/2048 so detection sees the real thing), and the files are written by
/// <see cref="SafeTensorsWriter"/> exactly as a full-size file would be.
/// </summary>
static class TinyCheckpoints
{
    public static DiffusersConfigs Configs(ModelArchitecture architecture)
    {
        var configs = DiffusersConfigs.Defaults(architecture).Clone();
        var sdxl = architecture == ModelArchitecture.StableDiffusionXL;
        configs.Unet["block_out_channels"] = sdxl ? new JsonArray(4, 8, 16) : new JsonArray(4, 8, 16, 16);
        configs.Unet["attention_head_dim"] = sdxl ? new JsonArray(1, 2, 4) : new JsonArray(1, 2, 4, 4);
        configs.Unet["norm_num_groups"] = 4;
        configs.Vae["block_out_channels"] = new JsonArray(4, 8, 16, 16);
        configs.Vae["norm_num_groups"] = 4;
        configs.TextEncoder["hidden_size"] = 8;
        configs.TextEncoder["num_attention_heads"] = 2;
        configs.TextEncoder["intermediate_size"] = 16;
        configs.TextEncoder["num_hidden_layers"] = 2;
        configs.TextEncoder["vocab_size"] = 40;
        if (configs.TextEncoder2 is { } text2)
        {
            configs.Unet["transformer_layers_per_block"] = new JsonArray(1, 2, 3);
            configs.Unet["addition_time_embed_dim"] = 4;
            configs.Unet["projection_class_embeddings_input_dim"] = 6 + 6 * 4;
            foreach (var (key, value) in new (string, int)[] { ("hidden_size", 12), ("num_attention_heads", 2), ("intermediate_size", 16), ("num_hidden_layers", 2), ("vocab_size", 40), ("projection_dim", 6) })
                text2[key] = value;
        }
        return configs;
    }

    public static string WriteConfigFolder(string dir, ModelArchitecture architecture, string? predictionType = null)
    {
        var configs = Configs(architecture);
        if (predictionType != null) configs.Scheduler!["prediction_type"] = predictionType;
        configs.Write(dir);
        return dir;
    }

    /// <summary>Every tensor an LDM single file of this architecture holds, plus the non-component keys real files carry.</summary>
    public static Dictionary<string, Tensor> LdmTensors(ModelArchitecture architecture, ScalarType dtype = ScalarType.Float32, int seed = 1)
    {
        var generator = new Generator((ulong)seed);
        var tensors = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var mapping in SingleFileLayout.Mappings(architecture, Configs(architecture)))
            if (!tensors.ContainsKey(mapping.LdmName))
                tensors[mapping.LdmName] = torch.randn(mapping.LdmShape, generator: generator).to_type(dtype);
        if (architecture == ModelArchitecture.StableDiffusionXL)
        {
            tensors[ClipTextKeyMap.SdxlHfPrefix + ClipTextKeyMap.PositionIds] = torch.arange(0, 77, ScalarType.Int64).unsqueeze(0);
            tensors[ClipTextKeyMap.SdxlOpenClipPrefix + "logit_scale"] = torch.tensor(4.6052f).to_type(dtype);
            return tensors;
        }
        foreach (var buffer in SingleFileLayout.ScheduleBuffers)
            tensors[buffer] = torch.rand(1000, generator: generator);
        if (architecture == ModelArchitecture.StableDiffusion1)
        {
            tensors[ClipTextKeyMap.HfPrefix + ClipTextKeyMap.PositionIds] = torch.arange(0, 77, ScalarType.Int64).unsqueeze(0);
        }
        else
        {
            // OpenCLIP's last block (unused by SD2), projection and logit scale.
            var c = 8;
            var last = ClipTextKeyMap.OpenClipPrefix + "transformer.resblocks.2.";
            foreach (var (name, shape) in new (string, long[])[]
            {
                ("ln_1.weight", [c]), ("ln_1.bias", [c]), ("attn.in_proj_weight", [3 * c, c]), ("attn.in_proj_bias", [3 * c]),
                ("attn.out_proj.weight", [c, c]), ("attn.out_proj.bias", [c]), ("ln_2.weight", [c]), ("ln_2.bias", [c]),
                ("mlp.c_fc.weight", [16, c]), ("mlp.c_fc.bias", [16]), ("mlp.c_proj.weight", [c, 16]), ("mlp.c_proj.bias", [c]),
            })
                tensors[last + name] = torch.randn(shape, generator: generator).to_type(dtype);
            tensors[ClipTextKeyMap.OpenClipPrefix + "text_projection"] = torch.randn(new long[] { c, c }, generator: generator).to_type(dtype);
            tensors[ClipTextKeyMap.OpenClipPrefix + "logit_scale"] = torch.tensor(4.6052f).to_type(dtype);
        }
        return tensors;
    }

    public static string Write(string path, Dictionary<string, Tensor> tensors, Dictionary<string, string>? metadata = null)
    {
        SafeTensorsWriter.Write(path, tensors, metadata);
        return path;
    }
}
