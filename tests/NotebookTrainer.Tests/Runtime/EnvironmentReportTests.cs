using NotebookTrainer.Runtime;

namespace NotebookTrainer.Tests.Runtime;

public sealed class EnvironmentReportTests
{
    [Fact]
    public void Reports_the_machine_and_what_is_missing_with_a_fix()
    {
        var report = EnvironmentReport.Collect(Path.GetTempPath());

        Assert.Equal(Environment.ProcessorCount, report.LogicalCores);
        Assert.Equal(TorchRuntime.LibTorchVersion, report.LibTorchVersion);
        Assert.Equal(TorchRuntime.DefaultDevice.type == TorchSharp.DeviceType.CUDA, report.CudaAvailable);
        Assert.StartsWith(".NET ", report.DotNet);
        Assert.True(report.TotalMemoryBytes > 0);
        Assert.True(report.FreeDiskBytes > 0);
        Assert.Equal(!report.CudaAvailable, report.Findings.Any(f => f.Missing == "CUDA GPU" && f.Fix.Contains("TorchBackend=cuda")));

        var html = report.ToHtml();
        Assert.Contains($"{report.LogicalCores} logical cores", html);
        Assert.Contains("<table class=\"nt-table\">", html);
        Assert.Contains(report.Findings.Count == 0 ? "Nothing missing" : report.Findings[0].Missing, html);
        Assert.Contains($"libtorch {report.LibTorchVersion}", report.ToString());
    }
}
