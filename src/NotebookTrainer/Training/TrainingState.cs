using System.Text.Json;
using System.Text.Json.Serialization;
using NotebookTrainer.IO;
using NotebookTrainer.Optimizers;
using NotebookTrainer.SafeTensors;
using static TorchSharp.torch;

namespace NotebookTrainer.Training;

/// <summary>Where a run stands: kohya's current_epoch/current_step plus what an exact resume needs.</summary>
public sealed record TrainingPosition
{
    /// <summary>Epoch in progress (1-based), or the epoch just finished when <see cref="BatchInEpoch"/> is 0.</summary>
    [JsonPropertyName("current_epoch")] public int Epoch { get; init; }
    /// <summary>Optimizer steps taken.</summary>
    [JsonPropertyName("current_step")] public int Step { get; init; }
    /// <summary>Batches of <see cref="Epoch"/> already consumed (the dataset shuffle position).</summary>
    [JsonPropertyName("batch_in_epoch")] public int BatchInEpoch { get; init; }
    /// <summary>Batches consumed over the whole run; seeds the per-batch caption and flip randomness.</summary>
    [JsonPropertyName("batches_seen")] public long BatchesSeen { get; init; }
    [JsonPropertyName("smoothed_loss")] public double SmoothedLoss { get; init; }
    [JsonPropertyName("seed")] public int Seed { get; init; }
}

/// <summary>
/// save_state folders (<c>{output_name}-{epoch:06d}-state</c>, named by <see cref="RunFolder"/>): the trained weights (network or U-Net), optimizer
/// state, RNG states and <c>train_state.json</c>. The folder is built under a temporary name and renamed into place, so a crash leaves
/// the previous state untouched.
/// </summary>
public static class TrainingState
{
    const string OptimizerFile = "optimizer.safetensors";
    const string RandomFile = "rng.safetensors";
    const string PositionFile = "train_state.json";

    /// <param name="beforeCommit">Called with the finished temporary folder just before it is renamed (tests inject failures here).</param>
    public static string Save(string path, TrainingTarget target, Optimizer optimizer, Generator generator, TrainingPosition position, Action<string>? beforeCommit = null) =>
        Save(path, target.StateFileName, target.StateDict(), optimizer, generator, position, beforeCommit);

    /// <summary>Writes a state folder with <paramref name="weights"/> in <paramref name="weightsFile"/> (for loops that train a module directly).</summary>
    public static string Save(string path, string weightsFile, IReadOnlyDictionary<string, Tensor> weights, Optimizer optimizer, Generator generator,
        TrainingPosition position, Action<string>? beforeCommit = null)
    {
        return AtomicFile.WriteDirectory(path, temp =>
        {
            Directory.CreateDirectory(temp);
            using (var scope = NewDisposeScope())
            {
                SafeTensorsWriter.Write(Path.Combine(temp, weightsFile), weights.ToDictionary(kv => kv.Key, kv => kv.Value.detach().cpu().to(ScalarType.Float32)));
                SafeTensorsWriter.Write(Path.Combine(temp, OptimizerFile), optimizer.StateDict());
                SafeTensorsWriter.Write(Path.Combine(temp, RandomFile), new Dictionary<string, Tensor>
                {
                    ["train_generator"] = generator.get_state(),
                    ["torch_global"] = get_rng_state(),
                });
            }
            AtomicFile.WriteAllText(Path.Combine(temp, PositionFile), JsonSerializer.Serialize(position, new JsonSerializerOptions { WriteIndented = true }));
            beforeCommit?.Invoke(temp);
        });
    }

    /// <summary>Reads the position without touching anything (to plan a resume).</summary>
    public static TrainingPosition ReadPosition(string path)
    {
        var file = Path.Combine(path, PositionFile);
        if (!File.Exists(file))
            throw new TrainingException($"--resume {path}: no {PositionFile} there; pass a folder named like <output_name>-000004-state written with save_state = true.");
        return JsonSerializer.Deserialize<TrainingPosition>(File.ReadAllText(file))
            ?? throw new TrainingException($"{file}: empty or unreadable; the state folder is damaged, resume from an earlier one.");
    }

    /// <summary>Restores the trained weights, optimizer state and RNG states; returns the position to continue from.</summary>
    public static TrainingPosition Load(string path, TrainingTarget target, Optimizer optimizer, Generator generator) =>
        Load(path, target.StateFileName, target.LoadStateDict, optimizer, generator);

    /// <summary>Restores a state folder written by the overload of <see cref="Save(string, string, IReadOnlyDictionary{string, Tensor}, Optimizer, Generator, TrainingPosition, Action{string}?)"/> that takes weights.</summary>
    public static TrainingPosition Load(string path, string weightsFile, Action<IReadOnlyDictionary<string, Tensor>> loadWeights, Optimizer optimizer, Generator generator)
    {
        var position = ReadPosition(path);
        using var scope = NewDisposeScope();
        loadWeights(ReadAll(Path.Combine(path, weightsFile)));
        optimizer.LoadStateDict(ReadAll(Path.Combine(path, OptimizerFile)));
        var rng = ReadAll(Path.Combine(path, RandomFile));
        generator.set_state(rng["train_generator"]);
        set_rng_state(rng["torch_global"]);
        return position;
    }

    static Dictionary<string, Tensor> ReadAll(string file)
    {
        if (!File.Exists(file)) throw new TrainingException($"{file} is missing; the state folder is incomplete, resume from an earlier one.");
        using var st = SafeTensorsFile.Open(file);
        return st.Names.ToDictionary(n => n, n => st.Load(n), StringComparer.Ordinal);
    }
}
