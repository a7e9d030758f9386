namespace NotebookTrainer.ModelConfigs;

/// <summary>The fields of diffusers' <c>scheduler/scheduler_config.json</c> that training and sampling read.</summary>
public sealed record NoiseSchedulerConfig
{
    public int NumTrainTimesteps { get; init; } = 1000;
    public double BetaStart { get; init; } = 0.00085;
    public double BetaEnd { get; init; } = 0.012;
    public string BetaSchedule { get; init; } = "scaled_linear";
    /// <summary>"epsilon" or "v_prediction" (SD 2.x 768-v).</summary>
    public string PredictionType { get; init; } = "epsilon";

    public static NoiseSchedulerConfig Epsilon { get; } = new();
    public static NoiseSchedulerConfig VPrediction { get; } = new() { PredictionType = "v_prediction" };

    public static NoiseSchedulerConfig Load(string file) => From(ConfigJson.Load(file));

    /// <param name="source">The file (or description) named in error messages.</param>
    public static NoiseSchedulerConfig FromJson(string json, string source) => From(ConfigJson.Parse(json, source));

    /// <param name="source">The file (or description) named in error messages.</param>
    public static NoiseSchedulerConfig FromJson(System.Text.Json.Nodes.JsonObject json, string source) => From(ConfigJson.From(json, source));

    static NoiseSchedulerConfig From(ConfigJson json)
    {
        var d = new NoiseSchedulerConfig();
        var config = new NoiseSchedulerConfig
        {
            NumTrainTimesteps = json.Int("num_train_timesteps", d.NumTrainTimesteps),
            BetaStart = json.Double("beta_start", d.BetaStart),
            BetaEnd = json.Double("beta_end", d.BetaEnd),
            BetaSchedule = json.String("beta_schedule", d.BetaSchedule),
            PredictionType = json.String("prediction_type", d.PredictionType),
        };
        if (config.PredictionType is not ("epsilon" or "v_prediction"))
            throw json.Invalid("prediction_type", $"'{config.PredictionType}' is not supported; use \"epsilon\" or \"v_prediction\".");
        return config;
    }

    public string ToJson() => ConfigJson.Write(new()
    {
        ["_class_name"] = "DDPMScheduler",
        ["num_train_timesteps"] = NumTrainTimesteps,
        ["beta_start"] = BetaStart,
        ["beta_end"] = BetaEnd,
        ["beta_schedule"] = BetaSchedule,
        ["prediction_type"] = PredictionType,
        ["clip_sample"] = false,
        ["set_alpha_to_one"] = false,
        ["steps_offset"] = 1,
    });
}
