using System.Text.Json;

namespace NotebookTrainer.ModelConfigs;

/// <summary>
/// Reads diffusers-style config.json files key by key, so a wrong or missing value is reported with the
/// file, the key and what was expected instead of a serializer exception.
/// </summary>
internal sealed class ConfigJson
{
    readonly string _file;
    readonly JsonElement _root;

    ConfigJson(string file, JsonElement root)
    {
        _file = file;
        _root = root;
    }

    public static ConfigJson Load(string file)
    {
        if (!File.Exists(file))
            throw new ModelConfigException($"{file}: file not found. Point to the folder holding the diffusers config.json files.");
        return Parse(File.ReadAllText(file), file);
    }

    /// <summary>A config already parsed (a diffusers folder's, or the built-in defaults a single file is read with).</summary>
    public static ConfigJson From(System.Text.Json.Nodes.JsonObject json, string source) => new(source, JsonSerializer.SerializeToElement(json));

    /// <param name="source">The file (or description) named in error messages.</param>
    public static ConfigJson Parse(string json, string source)
    {
        try
        {
            using var doc = JsonDocument.Parse(json, new JsonDocumentOptions { AllowTrailingCommas = true, CommentHandling = JsonCommentHandling.Skip });
            if (doc.RootElement.ValueKind != JsonValueKind.Object)
                throw new ModelConfigException($"{source}: expected a JSON object at the top level.");
            return new ConfigJson(source, doc.RootElement.Clone());
        }
        catch (JsonException e)
        {
            throw new ModelConfigException($"{source}: line {e.LineNumber + 1}: not valid JSON ({e.Message}).");
        }
    }

    /// <summary>This config, after checking that every one of <paramref name="keys"/> is given (no class default stands in).</summary>
    public ConfigJson Requiring(IEnumerable<string> keys)
    {
        foreach (var key in keys)
            if (!TryGet(key, out _)) throw new ModelConfigException($"{_file}: missing key '{key}'; a checkpoint's config must give it, as it decides parameter names and shapes.");
        return this;
    }

    bool TryGet(string key, out JsonElement value) =>
        _root.TryGetProperty(key, out value) && value.ValueKind != JsonValueKind.Null;

    ModelConfigException Wrong(string key, string expected, JsonElement value) =>
        new($"{_file}: key '{key}' must be {expected}, found {value.ValueKind} {value.GetRawText()}.");

    public int Int(string key, int fallback)
    {
        if (!TryGet(key, out var v)) return fallback;
        if (v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out var i)) return i;
        throw Wrong(key, "an integer", v);
    }

    public double Double(string key, double fallback)
    {
        if (!TryGet(key, out var v)) return fallback;
        if (v.ValueKind == JsonValueKind.Number) return v.GetDouble();
        throw Wrong(key, "a number", v);
    }

    public bool Bool(string key, bool fallback)
    {
        if (!TryGet(key, out var v)) return fallback;
        if (v.ValueKind is JsonValueKind.True or JsonValueKind.False) return v.GetBoolean();
        throw Wrong(key, "true or false", v);
    }

    public string String(string key, string fallback)
    {
        if (!TryGet(key, out var v)) return fallback;
        if (v.ValueKind == JsonValueKind.String) return v.GetString()!;
        throw Wrong(key, "a string", v);
    }

    public int? OptionalInt(string key) => TryGet(key, out _) ? Int(key, 0) : null;

    public string? OptionalString(string key) => TryGet(key, out _) ? String(key, "") : null;

    public int[] Ints(string key, int[] fallback)
    {
        if (!TryGet(key, out var v)) return fallback;
        if (v.ValueKind != JsonValueKind.Array) throw Wrong(key, "an array of integers", v);
        return v.EnumerateArray().Select(e => e.ValueKind == JsonValueKind.Number && e.TryGetInt32(out var i) ? i : throw Wrong(key, "an array of integers", v)).ToArray();
    }

    /// <summary>An integer applied to every block, or one integer per block (diffusers allows both).</summary>
    public int[]? IntOrInts(string key, int count)
    {
        if (!TryGet(key, out var v)) return null;
        if (v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out var single)) return Enumerable.Repeat(single, count).ToArray();
        var values = Ints(key, []);
        if (values.Length != count)
            throw new ModelConfigException($"{_file}: key '{key}' has {values.Length} values but the model has {count} blocks; give one value per block or a single integer.");
        return values;
    }

    public string[] Strings(string key, string[] fallback)
    {
        if (!TryGet(key, out var v)) return fallback;
        if (v.ValueKind != JsonValueKind.Array) throw Wrong(key, "an array of strings", v);
        return v.EnumerateArray().Select(e => e.ValueKind == JsonValueKind.String ? e.GetString()! : throw Wrong(key, "an array of strings", v)).ToArray();
    }

    public ModelConfigException Invalid(string key, string problem) => new($"{_file}: key '{key}': {problem}");

    /// <summary>A config.json as diffusers writes it: the keys in the given order, indented.</summary>
    public static string Write(Dictionary<string, object> values) => JsonSerializer.Serialize(values, Indented);

    static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };
}

/// <summary>A model config file that cannot be used; the message names the file, the key and the fix.</summary>
public sealed class ModelConfigException(string message) : Exception(message);
