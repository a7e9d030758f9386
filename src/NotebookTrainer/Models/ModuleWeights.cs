using System.Reflection;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace NotebookTrainer.Models;

/// <summary>
/// Puts checkpoint tensors into a module as its parameters, without copying. Build the module on the meta
/// device (no memory, no init), load each tensor straight into the wanted dtype from the mapped file, and
/// assign: peak memory is the model in that dtype, never an fp32 copy of it.
/// </summary>
public static class ModuleWeights
{
    static readonly MethodInfo RegisterParameter = typeof(nn.Module)
        .GetMethod("ConditionallyRegisterParameter", BindingFlags.Instance | BindingFlags.NonPublic, [typeof(string), typeof(Parameter)])
        ?? throw new MissingMethodException("TorchSharp nn.Module.ConditionallyRegisterParameter(string, Parameter) not found; TorchSharp version mismatch.");

    /// <summary>
    /// Replaces every parameter of <paramref name="module"/> with the tensor of the same name in
    /// <paramref name="weights"/> (converted to <paramref name="dtype"/> / moved to <paramref name="device"/>
    /// when given). Names and shapes must match exactly; the error lists what is missing, unexpected or
    /// mis-shaped. Parameters are frozen (requires_grad false). The tensors in <paramref name="weights"/> stay
    /// owned by the caller; the module shares their storage when no conversion was needed.
    /// </summary>
    /// <param name="component">Used in error messages, e.g. "unet" or the file name.</param>
    public static void Assign(nn.Module module, IReadOnlyDictionary<string, Tensor> weights, string component,
        ScalarType? dtype = null, Device? device = null)
    {
        var expected = module.named_parameters().ToDictionary(p => p.name, p => p.parameter.shape);
        var missing = expected.Keys.Where(k => !weights.ContainsKey(k)).ToList();
        var unexpected = weights.Keys.Where(k => !expected.ContainsKey(k)).ToList();
        var misShaped = expected.Where(e => weights.TryGetValue(e.Key, out var t) && !t.shape.SequenceEqual(e.Value))
            .Select(e => $"{e.Key} is [{string.Join(", ", weights[e.Key].shape)}], expected [{string.Join(", ", e.Value)}]").ToList();
        if (missing.Count + unexpected.Count + misShaped.Count > 0)
            throw new ModelWeightsException(component, missing, unexpected, misShaped);

        var modules = module.named_modules().ToDictionary(m => m.name, m => m.module);
        foreach (var (name, _) in expected)
        {
            var dot = name.LastIndexOf('.');
            var owner = dot < 0 ? module : modules[name[..dot]];
            var leaf = name[(dot + 1)..];
            var source = weights[name];
            var converted = source;
            if (dtype is { } d && converted.dtype != d) converted = converted.to(d);
            if (device is { } dev && converted.device != dev) converted = converted.to(dev);
            using var detached = converted.detach();
            var parameter = nn.Parameter(detached, requires_grad: false);
            if (!ReferenceEquals(converted, source)) converted.Dispose();
            Replace(owner, leaf, parameter);
        }
    }

    static void Replace(nn.Module owner, string name, Parameter parameter)
    {
        var type = owner.GetType();
        var property = type.GetProperty(name, BindingFlags.Instance | BindingFlags.Public);
        if (property is { CanWrite: true } && property.PropertyType.IsAssignableFrom(typeof(Parameter)))
        {
            // TorchSharp's own modules register the parameter in their setter.
            property.SetValue(owner, parameter);
            return;
        }
        var field = type.GetField(name, BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic)
            ?? throw new InvalidOperationException($"{type.Name} has no field or settable property '{name}' for its parameter.");
        var old = field.GetValue(owner) as Parameter;
        field.SetValue(owner, parameter.DetachFromDisposeScope());
        RegisterParameter.Invoke(owner, [name, parameter]);
        old?.Dispose();
    }
}

/// <summary>A checkpoint that does not fit the model built from its config.</summary>
public sealed class ModelWeightsException(string component, IReadOnlyList<string> missing, IReadOnlyList<string> unexpected, IReadOnlyList<string> misShaped)
    : Exception(Describe(component, missing, unexpected, misShaped))
{
    public IReadOnlyList<string> Missing { get; } = missing;
    public IReadOnlyList<string> Unexpected { get; } = unexpected;
    public IReadOnlyList<string> MisShaped { get; } = misShaped;

    static string Describe(string component, IReadOnlyList<string> missing, IReadOnlyList<string> unexpected, IReadOnlyList<string> misShaped)
    {
        static string List(IReadOnlyList<string> items) => string.Join(", ", items.Take(5)) + (items.Count > 5 ? $", … ({items.Count} in all)" : "");
        var parts = new List<string>();
        if (missing.Count > 0) parts.Add($"missing {List(missing)}");
        if (unexpected.Count > 0) parts.Add($"unexpected {List(unexpected)}");
        if (misShaped.Count > 0) parts.Add($"wrong shape: {List(misShaped)}");
        return $"{component}: the weights do not fit the model built from its config ({string.Join("; ", parts)}). " +
               "Check that the config folder matches the checkpoint (SD 1.x vs 2.x, or the tiny model's config/ folder).";
    }
}
