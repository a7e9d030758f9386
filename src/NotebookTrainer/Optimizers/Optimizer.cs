using TorchSharp;
using static TorchSharp.torch;
using TorchSharp.Modules;

namespace NotebookTrainer.Optimizers;

/// <summary>
/// torch.optim-style optimizer over <see cref="ParameterGroup"/>s. State is per-parameter tensors plus named
/// float64 scalars, and <see cref="StateDict"/> / <see cref="LoadStateDict"/> round-trip all of it exactly, so a
/// resumed run takes the same steps as an uninterrupted one.
/// </summary>
public abstract class Optimizer : IDisposable
{
    readonly List<Parameter> parameters;
    readonly List<Dictionary<string, Tensor>> state;

    protected Optimizer(IReadOnlyList<ParameterGroup> groups)
    {
        if (groups.Count == 0) throw new ArgumentException("The optimizer has nothing to train: every parameter group is empty or has learning rate 0.");
        Groups = groups;
        parameters = groups.SelectMany(g => g.Parameters).ToList();
        state = parameters.Select(_ => new Dictionary<string, Tensor>(StringComparer.Ordinal)).ToList();
    }

    /// <summary>kohya's optimizer_type spelling, recorded in ss_optimizer.</summary>
    public abstract string Name { get; }

    public IReadOnlyList<ParameterGroup> Groups { get; }

    /// <summary>Scalar state shared by all parameters (step count, D-adaptation estimates…).</summary>
    protected Dictionary<string, double> Scalars { get; } = new(StringComparer.Ordinal);

    public long StepCount => (long)Scalars.GetValueOrDefault("step");

    public void ZeroGrad()
    {
        foreach (var p in parameters)
        {
            using var grad = p.grad;
            grad?.zero_();
        }
    }

    public void Step()
    {
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        Scalars["step"] = StepCount + 1;
        try
        {
            StepCore();
        }
        finally
        {
            foreach (var scalar in heldScalars) scalar.Dispose();
            heldScalars.Clear();
        }
    }

    readonly List<Scalar> heldScalars = [];

    /// <summary>
    /// <paramref name="value"/> as a Scalar that stays alive until the step ends: pass these, never plain doubles, to
    /// tensor operations here. TorchSharp reads a Scalar's native handle and then holds no reference to it, so the
    /// temporary Scalar a double turns into can be finalized by the GC while libtorch still reads it — rare per call,
    /// but an optimizer makes thousands of such calls a step, and a long run crashed that way ("Expected false to be
    /// true" from c10's Scalar). That includes the alpha of add and add_, which TorchSharp fills with a temporary 1 when
    /// it is left out.
    /// </summary>
    protected Scalar Held(double value)
    {
        var scalar = value.ToScalar();
        heldScalars.Add(scalar);
        return scalar;
    }

    /// <summary>One update; runs under no_grad inside a dispose scope (state tensors must come from <see cref="StateOf"/>).</summary>
    protected abstract void StepCore();

    /// <summary>
    /// (group, index in all parameters, parameter, gradient) for every parameter that has a gradient, each inside its
    /// own dispose scope: what the caller makes while updating one parameter is freed before the next one comes, so a
    /// step holds one parameter's temporaries at a time, not the whole model's (several times its weights for
    /// Adafactor on bf16 weights). Use each item inside the loop that takes it.
    /// </summary>
    protected IEnumerable<(ParameterGroup Group, int Index, Parameter Param, Tensor Grad)> ParametersWithGradients()
    {
        var index = 0;
        foreach (var group in Groups)
            foreach (var p in group.Parameters)
            {
                using (NewDisposeScope())
                {
                    var grad = p.grad;
                    if (grad is not null) yield return (group, index, p, grad);
                }
                index++;
            }
    }

    /// <summary>The named state tensor of parameter <paramref name="index"/>, created by <paramref name="init"/> on first use.</summary>
    protected Tensor StateOf(int index, string name, Func<Tensor> init)
    {
        var dict = state[index];
        if (!dict.TryGetValue(name, out var t))
        {
            t = init().DetachFromDisposeScope();
            dict[name] = t;
        }
        return t;
    }

    const string ParamPrefix = "param.";
    const string ScalarPrefix = "scalar.";

    /// <summary>Copies of every state tensor (<c>param.{i}.{name}</c>) and scalar (<c>scalar.{name}</c>, float64 0-dim).</summary>
    public Dictionary<string, Tensor> StateDict()
    {
        var dict = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        for (var i = 0; i < state.Count; i++)
            foreach (var (name, t) in state[i])
                dict[$"{ParamPrefix}{i}.{name}"] = t.detach().cpu().clone();
        foreach (var (name, value) in Scalars)
            dict[ScalarPrefix + name] = tensor(value, ScalarType.Float64);
        return dict;
    }

    public void LoadStateDict(IReadOnlyDictionary<string, Tensor> dict)
    {
        foreach (var s in state) { foreach (var t in s.Values) t.Dispose(); s.Clear(); }
        Scalars.Clear();
        foreach (var (key, value) in dict)
        {
            if (key.StartsWith(ScalarPrefix, StringComparison.Ordinal))
            {
                Scalars[key[ScalarPrefix.Length..]] = value.to(ScalarType.Float64).item<double>();
                continue;
            }
            var rest = key.StartsWith(ParamPrefix, StringComparison.Ordinal) ? key[ParamPrefix.Length..] : throw new ArgumentException($"optimizer state key '{key}' is not param.* or scalar.*; the state folder is not from this optimizer.");
            var dot = rest.IndexOf('.');
            if (dot < 0 || !int.TryParse(rest[..dot], out var index) || index >= parameters.Count)
                throw new ArgumentException($"optimizer state key '{key}' names parameter {rest} but the network has {parameters.Count}; resume with the same network settings.");
            var p = parameters[index];
            state[index][rest[(dot + 1)..]] = value.to(value.dim() == 0 ? value.dtype : p.dtype).to(p.device).clone().DetachFromDisposeScope();
        }
    }

    public void Dispose()
    {
        foreach (var s in state) foreach (var t in s.Values) t.Dispose();
        GC.SuppressFinalize(this);
    }
}
