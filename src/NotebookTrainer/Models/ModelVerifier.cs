using System.Text.Json;
using NotebookTrainer.Display;
using NotebookTrainer.SafeTensors;
using TorchSharp;
using static TorchSharp.torch;

namespace NotebookTrainer.Models;

/// <summary>One check of a verification fixture: what ran and how far it was from the reference.</summary>
public sealed record VerificationCheck(string Name, string Component, double MaxAbsError, double MaxRelError, double Atol, double Rtol, bool Passed);

/// <summary>The result of <see cref="ModelVerifier.Run"/>.</summary>
public sealed record VerificationReport(string FixtureDir, IReadOnlyList<VerificationCheck> Checks) : IHtmlRenderable
{
    public bool Passed => Checks.All(c => c.Passed);

    public string ToHtml() =>
        $"<div class=\"nt-verify\"><p>{Html.Escape(FixtureDir)}: {(Passed ? "all checks passed" : "FAILED")}</p>" +
        Html.Table(["check", "component", "max abs error", "max rel error", "atol", "rtol", "result"],
            Checks.Select(c => new object?[] { c.Name, c.Component, c.MaxAbsError.ToString("G3"), c.MaxRelError.ToString("G3"), c.Atol, c.Rtol, c.Passed ? "pass" : "FAIL" })) +
        "</div>";
}

/// <summary>A fixture that cannot be run; the message names the file and key and the fix.</summary>
public sealed class FixtureException(string message) : Exception(message);

/// <summary>
/// Runs our modules on inputs stored by a reference implementation and compares with its outputs.
/// A fixture folder holds <c>fixture.json</c>:
/// <code>
/// {"model": "model.safetensors", "config": "config",
///  "checks": [{"name": "unet-t500", "component": "unet",
///              "inputs": {"sample": "unet.sample", "timestep": "unet.t", "encoder_hidden_states": "unet.text"},
///              "output": "unet.out", "atol": 1e-4, "rtol": 1e-3}]}
/// </code>
/// with the named tensors in <c>inputs.safetensors</c> and <c>expected.safetensors</c>. Components and inputs:
/// <c>unet</c> (sample, timestep, encoder_hidden_states), <c>vae.encode</c> (image in [−1, 1], also accepted as
/// sample → posterior mean), <c>vae.decode</c> (latents, unscaled), <c>text_encoder</c> (input_ids of any length up to
/// the position count, or windows of 77; clip_skip k in kohya/A1111's convention: final_layer_norm(hidden_states[−k]),
/// so 1 is last_hidden_state and 2 the penultimate layer; diffusers pipelines count one less). clip_skip may be set per
/// check or at the top level as the default. SDXL adds <c>text_encoder_2</c> (the same), <c>text_encoder.hidden_states</c>
/// and <c>text_encoder_2.hidden_states</c> (transformers' hidden_states[layer] without the final norm; the check's
/// <c>"layer"</c>, e.g. −2), <c>text_encoder_2.text_embeds</c> (the pooled, projected embedding) and the U-Net inputs
/// <c>added_cond_kwargs.text_embeds</c> and <c>added_cond_kwargs.time_ids</c>. Other keys (descriptions, provenance) are
/// ignored. Everything runs in fp32 on the CPU.
/// </summary>
public static class ModelVerifier
{
    public const string FixtureFile = "fixture.json";

    static readonly Dictionary<string, string[]> Arguments = new()
    {
        ["unet"] = ["sample", "timestep", "encoder_hidden_states"],
        ["vae.encode"] = ["image"],
        ["vae.decode"] = ["latents"],
        ["text_encoder"] = ["input_ids"],
        ["text_encoder_2"] = ["input_ids"],
        ["text_encoder.hidden_states"] = ["input_ids"],
        ["text_encoder_2.hidden_states"] = ["input_ids"],
        ["text_encoder_2.text_embeds"] = ["input_ids"],
    };

    const string TextEmbeds = "added_cond_kwargs.text_embeds";
    const string TimeIds = "added_cond_kwargs.time_ids";

    sealed record Check(string Name, string Component, Dictionary<string, string> Inputs, string Output, double Atol, double Rtol, int? ClipSkip, int? Layer)
    {
        public bool UsesTextEncoder2 => Component.StartsWith("text_encoder_2", StringComparison.Ordinal);
    }

    /// <param name="load">Loads the fixture's model: (model path, config dir or null) → fp32 CPU model.</param>
    public static VerificationReport Run(string fixtureDir, Func<string, string?, StableDiffusionModel> load,
        IProgress<Progress.ProgressUpdate>? progress = null, CancellationToken cancellationToken = default)
    {
        var fixturePath = Path.Combine(fixtureDir, FixtureFile);
        var (modelPath, configDir, checks) = ReadFixture(fixturePath);
        using var inputs = OpenTensors(Path.Combine(fixtureDir, "inputs.safetensors"));
        using var expected = OpenTensors(Path.Combine(fixtureDir, "expected.safetensors"));
        foreach (var check in checks)
        {
            foreach (var (arg, name) in check.Inputs)
                if (!inputs.Contains(name))
                    throw new FixtureException($"{fixturePath}: check '{check.Name}' input '{arg}' names tensor '{name}', which inputs.safetensors does not have.");
            if (!expected.Contains(check.Output))
                throw new FixtureException($"{fixturePath}: check '{check.Name}' output '{check.Output}' is not in expected.safetensors.");
        }

        using var model = load(Path.Combine(fixtureDir, modelPath), configDir is null ? null : Path.Combine(fixtureDir, configDir));
        foreach (var check in checks)
        {
            if (check.UsesTextEncoder2 && model.TextEncoder2 is null)
                throw new FixtureException($"{fixturePath}: check '{check.Name}' needs text_encoder_2, which only SDXL models have; the fixture's model has none.");
            var layers = (check.UsesTextEncoder2 ? model.TextEncoder2!.Config : model.TextEncoder.Config).NumHiddenLayers;
            if (check.Component is "text_encoder" or "text_encoder_2" && check.ClipSkip > layers)
                throw new FixtureException($"{fixturePath}: check '{check.Name}' clip_skip {check.ClipSkip} exceeds the text encoder's {layers} layers.");
            if (check.Layer is { } layer && (layer > layers || layer < -(layers + 1)))
                throw new FixtureException($"{fixturePath}: check '{check.Name}' layer {layer} is outside hidden_states (embeddings plus {layers} layers: {-(layers + 1)} … {layers}).");
            if (check.Component == "unet" && model.Unet.Config.HasTextTimeEmbedding && !(check.Inputs.ContainsKey(TextEmbeds) && check.Inputs.ContainsKey(TimeIds)))
                throw new FixtureException($"{fixturePath}: check '{check.Name}': this SDXL U-Net needs inputs \"{TextEmbeds}\" and \"{TimeIds}\".");
        }
        var tracker = new Progress.ProgressTracker("verify", checks.Count, progress);
        var results = new List<VerificationCheck>();
        using var _ = no_grad();
        foreach (var check in checks)
        {
            cancellationToken.ThrowIfCancellationRequested();
            using var scope = NewDisposeScope();
            Tensor Input(string arg) => inputs.Load(check.Inputs[arg]);
            var actual = Compute(model, check, Input).to(ScalarType.Float32);
            var reference = expected.Load(check.Output, ScalarType.Float32);
            if (!actual.shape.SequenceEqual(reference.shape))
                throw new FixtureException($"{fixturePath}: check '{check.Name}' produced shape [{string.Join(", ", actual.shape)}] but expected.safetensors '{check.Output}' is [{string.Join(", ", reference.shape)}].");
            var difference = (actual - reference).abs();
            var maxAbs = difference.max().item<float>();
            var maxRel = (difference / (reference.abs() + 1e-12)).max().item<float>();
            var passed = (difference <= check.Atol + check.Rtol * reference.abs()).all().item<bool>();
            results.Add(new VerificationCheck(check.Name, check.Component, maxAbs, maxRel, check.Atol, check.Rtol, passed));
            tracker.Advance(detail: check.Name);
        }
        return new VerificationReport(fixtureDir, results);
    }

    static Tensor Compute(StableDiffusionModel model, Check check, Func<string, Tensor> input)
    {
        Tensor? Optional(string arg) => check.Inputs.ContainsKey(arg) ? input(arg) : null;
        Tensor Ids() => input("input_ids").to(ScalarType.Int64);
        return check.Component switch
        {
            "unet" => model.Unet.forward(input("sample"), input("timestep"), input("encoder_hidden_states"), Optional(TextEmbeds), Optional(TimeIds)),
            "vae.encode" => UsePosterior(model.Vae.encode(input("image"))),
            "vae.decode" => model.Vae.decode(input("latents")),
            "text_encoder.hidden_states" => TextEncoding.HiddenState(model.TextEncoder, Ids(), check.Layer!.Value),
            "text_encoder_2.hidden_states" => TextEncoding.HiddenState(model.TextEncoder2!, Ids(), check.Layer!.Value),
            "text_encoder_2.text_embeds" => TextEmbedsOf(model.TextEncoder2!, Ids()),
            "text_encoder_2" => TextEncoding.Encode(model.TextEncoder2!, Ids(), check.ClipSkip ?? 1),
            _ => TextEncoding.Encode(model.TextEncoder, Ids(), check.ClipSkip ?? 1),
        };
    }

    static Tensor TextEmbedsOf(Clip.CLIPTextModelWithProjection textEncoder, Tensor ids)
    {
        var (pooled, output) = textEncoder.forward(ids);
        output.Dispose();
        return pooled;
    }

    static Tensor UsePosterior(Vae.DiagonalGaussianDistribution posterior)
    {
        using (posterior)
            return posterior.Mean.clone();
    }

    static SafeTensorsFile OpenTensors(string path) =>
        File.Exists(path) ? SafeTensorsFile.Open(path) : throw new FixtureException($"{path}: not found; a fixture folder needs fixture.json, inputs.safetensors and expected.safetensors.");

    static (string Model, string? Config, List<Check> Checks) ReadFixture(string path)
    {
        if (!File.Exists(path))
            throw new FixtureException($"{path}: not found. A fixture folder needs {FixtureFile}, inputs.safetensors and expected.safetensors.");
        JsonElement root;
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllText(path));
            root = doc.RootElement.Clone();
        }
        catch (JsonException e)
        {
            throw new FixtureException($"{path}: line {e.LineNumber + 1}: not valid JSON ({e.Message}).");
        }
        string Text(JsonElement e, string key, string where) =>
            e.TryGetProperty(key, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString()! : throw new FixtureException($"{path}: {where} needs \"{key}\" as a string.");
        double Number(JsonElement e, string key, string where, double fallback) =>
            !e.TryGetProperty(key, out var v) ? fallback : v.ValueKind == JsonValueKind.Number ? v.GetDouble() : throw new FixtureException($"{path}: {where} \"{key}\" must be a number.");

        var model = Text(root, "model", "the top level");
        int? ClipSkip(JsonElement e, string where) => !e.TryGetProperty("clip_skip", out var v) ? null
            : v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out var k) && k >= 1 ? k
            : throw new FixtureException($"{path}: {where} \"clip_skip\" must be a whole number from 1 (last layer) up; 2 is the penultimate layer.");
        var defaultClipSkip = ClipSkip(root, "the top level");
        int? Layer(JsonElement e, string where, string component) => !e.TryGetProperty("layer", out var v)
            ? component.EndsWith(".hidden_states", StringComparison.Ordinal) ? throw new FixtureException($"{path}: {where} component {component} needs \"layer\" (e.g. -2, the penultimate layer, as transformers indexes hidden_states).") : null
            : v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out var k) ? k
            : throw new FixtureException($"{path}: {where} \"layer\" must be a whole number (transformers' hidden_states index, e.g. -2).");
        var config = root.TryGetProperty("config", out var c) && c.ValueKind == JsonValueKind.String ? c.GetString() : null;
        if (!root.TryGetProperty("checks", out var array) || array.ValueKind != JsonValueKind.Array || array.GetArrayLength() == 0)
            throw new FixtureException($"{path}: needs a non-empty \"checks\" array.");
        var checks = new List<Check>();
        var index = 0;
        foreach (var e in array.EnumerateArray())
        {
            var where = $"checks[{index++}]";
            var name = Text(e, "name", where);
            where = $"check '{name}'";
            var component = Text(e, "component", where);
            if (!Arguments.TryGetValue(component, out var args))
                throw new FixtureException($"{path}: {where} component '{component}' is unknown; use one of {string.Join(", ", Arguments.Keys)}.");
            if (!e.TryGetProperty("inputs", out var inputsJson) || inputsJson.ValueKind != JsonValueKind.Object)
                throw new FixtureException($"{path}: {where} needs \"inputs\": {{{string.Join(", ", args.Select(a => $"\"{a}\": tensor name"))}}}.");
            var inputs = inputsJson.EnumerateObject().ToDictionary(p => p.Name, p => p.Value.ValueKind == JsonValueKind.String ? p.Value.GetString()! : throw new FixtureException($"{path}: {where} input '{p.Name}' must name a tensor."));
            if (component == "vae.encode" && !inputs.ContainsKey("image") && inputs.Remove("sample", out var sample)) inputs["image"] = sample;
            var missing = args.Where(a => !inputs.ContainsKey(a)).ToList();
            if (missing.Count > 0)
                throw new FixtureException($"{path}: {where} lacks input(s) {string.Join(", ", missing)} for component {component}.");
            checks.Add(new Check(name, component, inputs, Text(e, "output", where), Number(e, "atol", where, 1e-4), Number(e, "rtol", where, 1e-3), ClipSkip(e, where) ?? defaultClipSkip, Layer(e, where, component)));
        }
        return (model, config, checks);
    }
}
