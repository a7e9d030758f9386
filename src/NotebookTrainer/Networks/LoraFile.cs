using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using NotebookTrainer.SafeTensors;
using TorchSharp;
using static TorchSharp.torch;

namespace NotebookTrainer.Networks;

/// <summary>kohya's save_precision.</summary>
public enum SavePrecision { Float, Fp16, Bf16 }

/// <summary>
/// LoRA files as kohya writes them: kohya/LyCORIS tensor keys, 0-dim alpha, every tensor in the save precision,
/// string metadata with <c>ss_*</c>, <c>modelspec.*</c> and <c>sshs_model_hash</c> (SHA-256 of the data region). An SDXL
/// network's file also says <c>ss_base_model_version = "sdxl_base_v1-0"</c> and <c>ss_v2 = False</c>, as sd-scripts writes them.
/// </summary>
public static class LoraFile
{
    /// <summary>sd-scripts' ss_base_model_version for every SDXL-family base (sdxl_model_util.MODEL_VERSION_SDXL_BASE_V1_0).</summary>
    public const string SdxlBaseModelVersion = "sdxl_base_v1-0";

    public static SavePrecision ParsePrecision(string? value) => value switch
    {
        null or "" or "float" or "fp32" => SavePrecision.Float,
        "fp16" => SavePrecision.Fp16,
        "bf16" => SavePrecision.Bf16,
        _ => throw new ArgumentException($"save_precision \"{value}\" is not supported; use \"float\", \"fp16\" or \"bf16\"."),
    };

    public static ScalarType ToScalarType(SavePrecision precision) => precision switch
    {
        SavePrecision.Fp16 => ScalarType.Float16,
        SavePrecision.Bf16 => ScalarType.BFloat16,
        _ => ScalarType.Float32,
    };

    /// <summary>
    /// Writes <paramref name="network"/> to <paramref name="path"/> atomically. The network's own <c>ss_network_*</c>
    /// entries are added to <paramref name="metadata"/> when missing, and <c>sshs_model_hash</c> always.
    /// Returns the metadata written.
    /// </summary>
    public static Dictionary<string, string> Save(string path, LoraNetwork network, SavePrecision precision, IReadOnlyDictionary<string, string>? metadata = null)
    {
        using var scope = NewDisposeScope();
        var dtype = ToScalarType(precision);
        var tensors = network.StateDict().ToDictionary(kv => kv.Key, kv => kv.Value.detach().cpu().to(dtype).contiguous(), StringComparer.Ordinal);
        var meta = new Dictionary<string, string>(metadata ?? new Dictionary<string, string>(), StringComparer.Ordinal);
        meta.TryAdd("ss_network_module", network.Options.NetworkModule);
        meta.TryAdd("ss_network_dim", network.Options.Dim.ToString(CultureInfo.InvariantCulture));
        meta.TryAdd("ss_network_alpha", (network.Options.Alpha is null or 0 ? network.Options.Dim : network.Options.Alpha.Value).ToString(CultureInfo.InvariantCulture));
        if (network.Options.NetworkArgs.Count > 0) meta.TryAdd("ss_network_args", JsonSerializer.Serialize(network.Options.NetworkArgs));
        if (network.IsSdxl)
        {
            meta.TryAdd("ss_base_model_version", SdxlBaseModelVersion);
            meta.TryAdd("ss_v2", "False");
        }
        meta["sshs_model_hash"] = DataSha256(tensors);
        SafeTensorsWriter.Write(path, tensors, meta);
        return meta;
    }

    /// <summary>SHA-256 of the bytes a safetensors writer puts after the header: tensors sorted by name, raw little-endian data.</summary>
    public static string DataSha256(IReadOnlyDictionary<string, Tensor> tensors)
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var (_, tensor) in tensors.OrderBy(t => t.Key, StringComparer.Ordinal))
        {
            using var flat = tensor.detach().cpu().contiguous().reshape(-1);
            if (flat.numel() > 0) sha.AppendData(flat.bytes);
        }
        return Convert.ToHexStringLower(sha.GetHashAndReset());
    }

    /// <summary>Loads a kohya/LyCORIS LoRA, LoCon or LoHa file onto the given models (kind detected from the keys; SDXL: pass <paramref name="textEncoder2"/>).</summary>
    public static (LoraNetwork Network, IReadOnlyDictionary<string, string> Metadata) Load(string path, nn.Module? unet, nn.Module? textEncoder, Device? device = null,
        nn.Module? textEncoder2 = null)
    {
        using var file = SafeTensorsFile.Open(path);
        var tensors = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        try
        {
            foreach (var name in file.Names) tensors[name] = file.Load(name, ScalarType.Float32);
            var network = LoraNetwork.FromStateDict(unet, textEncoder, tensors, path, device, textEncoder2);
            return (network, new Dictionary<string, string>(file.Metadata.ToDictionary(kv => kv.Key, kv => kv.Value), StringComparer.Ordinal));
        }
        finally
        {
            foreach (var t in tensors.Values) t.Dispose();
        }
    }
}
