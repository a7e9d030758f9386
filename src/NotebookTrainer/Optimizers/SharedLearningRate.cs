namespace NotebookTrainer.Optimizers;

/// <summary>D-adapting optimizers estimate one step size for all groups, so their group learning rates must agree.</summary>
static class SharedLearningRate
{
    public static void Check(string optimizer, IReadOnlyList<ParameterGroup> groups)
    {
        var rates = groups.Select(g => g.InitialLearningRate).Where(lr => lr != 0).Distinct().ToList();
        if (rates.Count > 1)
            throw new ArgumentException($"{optimizer} needs the same learning rate for every group (got {string.Join(", ", groups.Select(g => $"{g.Name}={g.InitialLearningRate}"))}); set unet_lr and text_encoder_lr equal (usually 1.0) or one of them to 0.");
    }

    public static double Max(IReadOnlyList<ParameterGroup> groups) => groups.Max(g => g.LearningRate);
}
