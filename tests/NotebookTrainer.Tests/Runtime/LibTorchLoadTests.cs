using NotebookTrainer.Runtime;
using static TorchSharp.torch;

namespace NotebookTrainer.Tests.Runtime;

public class LibTorchLoadTests
{
    [Fact]
    public void NativeLibTorchLoadsAndComputes()
    {
        Assert.StartsWith("2.10", TorchRuntime.LibTorchVersion);
        using var a = tensor(new float[] { 1, 2, 3, 4 }).reshape(2, 2);
        using var b = a.matmul(a);
        Assert.Equal(new float[] { 7, 10, 15, 22 }, b.data<float>().ToArray());
    }
}
