using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using NotebookTrainer.Display;

namespace NotebookTrainer.Analysis;

/// <summary>A module present in both files whose rank, alpha or weight change differs.</summary>
public sealed record LoraModuleDifference(string Name, long RankA, long RankB, double AlphaA, double AlphaB, double NormA, double NormB)
{
    /// <summary>‖ΔW_b‖ / ‖ΔW_a‖ (∞ when a is zero and b is not).</summary>
    public double NormRatio => NormA == 0 ? (NormB == 0 ? 1 : double.PositiveInfinity) : NormB / NormA;
}

/// <summary>Two LoRA files side by side: modules only in one, rank/alpha differences, per-module and per-block norm ratios.</summary>
public sealed class LoraComparison(LoraReport a, LoraReport b) : IHtmlRenderable
{
    public LoraReport A { get; } = a;
    public LoraReport B { get; } = b;

    public IReadOnlyList<string> OnlyInA { get; } = a.Modules.Select(m => m.Name).Except(b.Modules.Select(m => m.Name)).Order(StringComparer.Ordinal).ToList();
    public IReadOnlyList<string> OnlyInB { get; } = b.Modules.Select(m => m.Name).Except(a.Modules.Select(m => m.Name)).Order(StringComparer.Ordinal).ToList();

    public IReadOnlyList<LoraModuleDifference> Shared { get; } = a.Modules
        .Join(b.Modules, m => m.Name, m => m.Name, (x, y) => new LoraModuleDifference(x.Name, x.Rank, y.Rank, x.Alpha, y.Alpha, x.DeltaNorm, y.DeltaNorm))
        .OrderBy(d => d.Name, StringComparer.Ordinal).ToList();

    public IEnumerable<LoraModuleDifference> RankOrAlphaDifferences => Shared.Where(d => d.RankA != d.RankB || d.AlphaA != d.AlphaB);

    /// <summary>Per block: ‖ΔW‖ of a, of b and the ratio b/a.</summary>
    public IReadOnlyList<(string Block, double NormA, double NormB, double Ratio)> BlockRatios =>
        A.Blocks.Select(x => x.Block).Union(B.Blocks.Select(y => y.Block)).OrderBy(LoraBlocks.Order).Select(block =>
        {
            var na = A.Blocks.FirstOrDefault(x => x.Block == block)?.Norm ?? 0;
            var nb = B.Blocks.FirstOrDefault(x => x.Block == block)?.Norm ?? 0;
            return (block, na, nb, na == 0 ? (nb == 0 ? 1 : double.PositiveInfinity) : nb / na);
        }).ToList();

    public IEnumerable<KeyValuePair<string, (string? A, string? B)>> MetadataDifferences =>
        LoraReport.TrainingKeys
            .Select(k => new KeyValuePair<string, (string?, string?)>(k, (A.Metadata.GetValueOrDefault(k), B.Metadata.GetValueOrDefault(k))))
            .Where(kv => kv.Value.Item1 != kv.Value.Item2);

    static string F(double v) => double.IsInfinity(v) ? "inf" : v.ToString("0.0000", CultureInfo.InvariantCulture);

    public string ToText()
    {
        var sb = new StringBuilder();
        sb.AppendLine($"a: {A.Path} ({A.Modules.Count} modules)");
        sb.AppendLine($"b: {B.Path} ({B.Modules.Count} modules)");
        sb.AppendLine($"only in a: {OnlyInA.Count}{string.Concat(OnlyInA.Take(10).Select(n => "\n  " + n))}");
        sb.AppendLine($"only in b: {OnlyInB.Count}{string.Concat(OnlyInB.Take(10).Select(n => "\n  " + n))}");
        var rankAlpha = RankOrAlphaDifferences.ToList();
        sb.AppendLine($"rank/alpha differences: {rankAlpha.Count}");
        foreach (var d in rankAlpha.Take(20)) sb.AppendLine(FormattableString.Invariant($"  {d.Name}: rank {d.RankA} → {d.RankB}, alpha {d.AlphaA} → {d.AlphaB}"));
        foreach (var (key, (va, vb)) in MetadataDifferences) sb.AppendLine($"  {key}: {va ?? "-"} → {vb ?? "-"}");
        sb.AppendLine($"  {"block",-8} {"‖ΔW‖ a",10} {"‖ΔW‖ b",10} {"b/a",8}");
        foreach (var (block, na, nb, ratio) in BlockRatios) sb.AppendLine($"  {block,-8} {F(na),10} {F(nb),10} {F(ratio),8}");
        return sb.ToString();
    }

    public string ToJson() => new JsonObject
    {
        ["a"] = A.Path,
        ["b"] = B.Path,
        ["only_in_a"] = new JsonArray(OnlyInA.Select(n => (JsonNode)n).ToArray()),
        ["only_in_b"] = new JsonArray(OnlyInB.Select(n => (JsonNode)n).ToArray()),
        ["rank_alpha_differences"] = new JsonArray(RankOrAlphaDifferences.Select(d => (JsonNode)new JsonObject { ["name"] = d.Name, ["rank_a"] = d.RankA, ["rank_b"] = d.RankB, ["alpha_a"] = d.AlphaA, ["alpha_b"] = d.AlphaB }).ToArray()),
        ["blocks"] = new JsonArray(BlockRatios.Select(r => (JsonNode)new JsonObject { ["block"] = r.Block, ["norm_a"] = r.NormA, ["norm_b"] = r.NormB, ["ratio"] = double.IsInfinity(r.Ratio) ? null : r.Ratio }).ToArray()),
        ["modules"] = new JsonArray(Shared.Select(d => (JsonNode)new JsonObject { ["name"] = d.Name, ["norm_a"] = d.NormA, ["norm_b"] = d.NormB, ["ratio"] = double.IsInfinity(d.NormRatio) ? null : d.NormRatio }).ToArray()),
    }.ToJsonString(new JsonSerializerOptions { WriteIndented = true });

    public string ToHtml()
    {
        var sb = new StringBuilder("<div class=\"nt-lora-diff\"><h3>LoRA comparison</h3>");
        sb.Append(Html.Table(["", "file", "modules"], [[ "a", A.Path, A.Modules.Count ], [ "b", B.Path, B.Modules.Count ]]));
        sb.Append(Html.Table(["block", "‖ΔW‖ a", "‖ΔW‖ b", "b/a"], BlockRatios.Select(r => new object?[] { r.Block, F(r.NormA), F(r.NormB), F(r.Ratio) })));
        if (OnlyInA.Count + OnlyInB.Count > 0)
            sb.Append(Html.Table(["only in", "module"], OnlyInA.Select(n => new object?[] { "a", n }).Concat(OnlyInB.Select(n => new object?[] { "b", n }))));
        var rankAlpha = RankOrAlphaDifferences.ToList();
        if (rankAlpha.Count > 0)
            sb.Append(Html.Table(["module", "rank a", "rank b", "alpha a", "alpha b"], rankAlpha.Select(d => new object?[] { d.Name, d.RankA, d.RankB, d.AlphaA, d.AlphaB })));
        var meta = MetadataDifferences.ToList();
        if (meta.Count > 0)
            sb.Append(Html.Table(["parameter", "a", "b"], meta.Select(kv => new object?[] { kv.Key, kv.Value.A, kv.Value.B })));
        return sb.Append("</div>").ToString();
    }
}
