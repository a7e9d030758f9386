using System.Diagnostics;
using System.Globalization;
using System.Text;
using NotebookTrainer.World;

namespace NotebookTrainer.Pretraining;

/// <summary>The PROVENANCE.md of an installed pretraining run: how to make the same model again, and what it measured.</summary>
public static class PretrainingProvenance
{
    public static string Write(PretrainingOptions options, IReadOnlyList<PhaseResult> results, IReadOnlyList<string> commands, string commit, string trainingConfig)
    {
        var sb = new StringBuilder();
        sb.AppendLine("# Provenance of the embedded tiny model");
        sb.AppendLine();
        sb.AppendLine("Made by this project's own code from random weights; no outside data or weights. To make it again, run the");
        sb.AppendLine("commands that made it, in order (a later command resumes the run the earlier one left):");
        sb.AppendLine();
        sb.AppendLine("```bash");
        foreach (var command in commands) sb.AppendLine(command);
        sb.AppendLine("```");
        sb.AppendLine();
        sb.AppendLine("The same command and seed give a model of the same quality; the bytes may differ between CPUs (float");
        sb.AppendLine("reductions run in a different order on other vector units).");
        sb.AppendLine();
        sb.AppendLine("| | |");
        sb.AppendLine("|---|---|");
        sb.AppendLine(Row("seed", options.Seed.ToString(CultureInfo.InvariantCulture)));
        sb.AppendLine(Row("commit", commit));
        sb.AppendLine(Row("date (UTC)", DateTime.UtcNow.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture)));
        sb.AppendLine(Row("machine", $"{CpuModel()}, {Environment.ProcessorCount} cores, {Runtime.TorchRuntime.DefaultDevice}"));
        sb.AppendLine(Row("libtorch", Runtime.TorchRuntime.LibTorchVersion));
        sb.AppendLine(Row("total time", $"{results.Sum(r => r.Seconds) / 60:0.0} min"));
        sb.AppendLine();
        sb.AppendLine("## Phases");
        sb.AppendLine();
        sb.AppendLine("| phase | seconds | figures |");
        sb.AppendLine("|---|---:|---|");
        foreach (var r in results)
            sb.AppendLine($"| {r.Name} | {r.Seconds.ToString("0", CultureInfo.InvariantCulture)} | {string.Join(", ", r.Figures.Select(f => $"{f.Key} {f.Value}"))} |");
        sb.AppendLine();
        sb.AppendLine("Loss curves: `pretraining/vae-loss.csv` (step, L1+L2 reconstruction, KL), `pretraining/decoder-loss.csv` (the same");
        sb.AppendLine("for the decoder-only pass on whole images) and `pretraining/unet-loss.csv` (the");
        sb.AppendLine("trainer's loss log). The U-Net's training config is `pretraining/training.toml` (kohya fine_tune.py keys, as");
        sb.AppendLine($"written to {Path.GetFileName(trainingConfig)} by the run); the judged samples' accuracy per attribute is");
        sb.AppendLine("`pretraining/attribute-accuracy.json`.");
        return sb.ToString();
    }

    static string Row(string key, string value) => $"| {key} | {value} |";

    /// <summary>HEAD of the working directory's git checkout, marked when files differ from it.</summary>
    public static string GitCommit()
    {
        try
        {
            using var git = Process.Start(new ProcessStartInfo("git", "rev-parse HEAD") { RedirectStandardOutput = true, RedirectStandardError = true })!;
            var output = git.StandardOutput.ReadToEnd().Trim();
            git.WaitForExit();
            var dirty = git.ExitCode == 0 && IsDirty();
            return git.ExitCode == 0 ? output + (dirty ? " (with uncommitted changes)" : "") : "unknown (not a git checkout)";
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return "unknown (git not found)";
        }
    }

    static bool IsDirty()
    {
        using var git = Process.Start(new ProcessStartInfo("git", "status --porcelain --untracked-files=no") { RedirectStandardOutput = true, RedirectStandardError = true })!;
        var output = git.StandardOutput.ReadToEnd();
        git.WaitForExit();
        return output.Trim().Length > 0;
    }

    static string CpuModel()
    {
        const string cpuinfo = "/proc/cpuinfo";
        if (!File.Exists(cpuinfo)) return Environment.GetEnvironmentVariable("PROCESSOR_IDENTIFIER") ?? "unknown CPU";
        var line = File.ReadLines(cpuinfo).FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal));
        return line?[(line.IndexOf(':') + 1)..].Trim() ?? "unknown CPU";
    }
}
