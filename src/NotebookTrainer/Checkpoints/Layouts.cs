using System.Text.Json.Nodes;

namespace NotebookTrainer.Checkpoints;

/// <summary>The U-Net config fields that decide parameter names and shapes.</summary>
public sealed record UNetLayout(
    long[] BlockOutChannels, int LayersPerBlock, string[] DownBlockTypes, string[] UpBlockTypes,
    long InChannels, long OutChannels, long CrossAttentionDim, bool UseLinearProjection, int TransformerLayersPerBlock)
{
    public bool DownBlockHasAttention(int i) => DownBlockTypes[i].StartsWith("CrossAttn", StringComparison.Ordinal);

    public bool UpBlockHasAttention(int i) => UpBlockTypes[i].StartsWith("CrossAttn", StringComparison.Ordinal);

    public static UNetLayout From(JsonObject config, string source)
    {
        var read = new ConfigReader(config, source);
        var channels = read.LongArray("block_out_channels");
        var down = read.StringArray("down_block_types");
        var up = read.StringArray("up_block_types");
        if (down.Length != channels.Length || up.Length != channels.Length)
            throw new CheckpointFormatException($"{source}: down_block_types ({down.Length}), up_block_types ({up.Length}) and block_out_channels ({channels.Length}) must have the same length.");
        var depth = config["transformer_layers_per_block"] is null ? 1 : read.Int("transformer_layers_per_block");
        return new UNetLayout(channels, read.Int("layers_per_block"), down, up, read.Long("in_channels"), read.Long("out_channels"),
            read.Long("cross_attention_dim"), read.Bool("use_linear_projection", false), depth);
    }
}

/// <summary>The AutoencoderKL config fields that decide parameter names and shapes.</summary>
public sealed record VaeLayout(long[] BlockOutChannels, int LayersPerBlock, long InChannels, long OutChannels, long LatentChannels)
{
    public static VaeLayout From(JsonObject config, string source)
    {
        var read = new ConfigReader(config, source);
        return new VaeLayout(read.LongArray("block_out_channels"), read.Int("layers_per_block"), read.Long("in_channels"),
            read.Long("out_channels"), read.Long("latent_channels"));
    }
}

/// <summary>The CLIPTextModel config fields that decide parameter names and shapes.</summary>
public sealed record ClipTextLayout(long HiddenSize, long IntermediateSize, int Layers, long VocabSize, long MaxPositions)
{
    public static ClipTextLayout From(JsonObject config, string source)
    {
        var read = new ConfigReader(config, source);
        return new ClipTextLayout(read.Long("hidden_size"), read.Long("intermediate_size"), read.Int("num_hidden_layers"),
            read.Long("vocab_size"), read.Long("max_position_embeddings"));
    }
}

/// <summary>Typed reads from a config.json with errors that name the file and key.</summary>
sealed class ConfigReader(JsonObject config, string source)
{
    JsonNode Node(string key) => config[key] ?? throw new CheckpointFormatException($"{source}: missing key '{key}'.");

    // Values set in code (configs["x"] = 4) hold an int, parsed files hold a JsonElement; reading the JSON text handles both.
    static bool TryLong(JsonNode? node, out long value)
    {
        value = 0;
        return node is JsonValue v && v.GetValueKind() == System.Text.Json.JsonValueKind.Number
            && long.TryParse(v.ToJsonString(), System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out value);
    }

    public long Long(string key) => TryLong(Node(key), out var x) ? x : throw new CheckpointFormatException($"{source}: '{key}' must be an integer, found {Node(key).ToJsonString()}.");

    public int Int(string key) => checked((int)Long(key));

    public bool Bool(string key, bool fallback) => config[key] switch
    {
        null => fallback,
        JsonValue v when v.GetValueKind() is System.Text.Json.JsonValueKind.True or System.Text.Json.JsonValueKind.False => v.GetValueKind() == System.Text.Json.JsonValueKind.True,
        var other => throw new CheckpointFormatException($"{source}: '{key}' must be true or false, found {other.ToJsonString()}."),
    };

    public long[] LongArray(string key) => Node(key) is JsonArray a
        ? a.Select((n, i) => TryLong(n, out var x) ? x : throw new CheckpointFormatException($"{source}: '{key}'[{i}] must be an integer.")).ToArray()
        : throw new CheckpointFormatException($"{source}: '{key}' must be an array of integers.");

    public string[] StringArray(string key) => Node(key) is JsonArray a
        ? a.Select((n, i) => n is JsonValue v && v.GetValueKind() == System.Text.Json.JsonValueKind.String ? v.GetValue<string>() : throw new CheckpointFormatException($"{source}: '{key}'[{i}] must be a string.")).ToArray()
        : throw new CheckpointFormatException($"{source}: '{key}' must be an array of strings.");
}
