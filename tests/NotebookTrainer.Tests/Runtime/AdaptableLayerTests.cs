using NotebookTrainer.Models.Layers;
using static TorchSharp.torch;

namespace NotebookTrainer.Tests.Runtime;

public class AdaptableLayerTests
{
    sealed class AddConstant(float value) : IWeightAdapter
    {
        public Tensor Adapt(Tensor input, Tensor originalOutput) => originalOutput + value;
    }

    [Fact]
    public void LinearMatchesFunctionalLinearAndKeepsCheckpointNames()
    {
        using var layer = new AdaptableLinear(4, 3);
        Assert.Equal(new[] { "bias", "weight" }, layer.state_dict().Keys.OrderBy(k => k));
        using var x = randn(2, 4);
        using var expected = nn.functional.linear(x, layer.weight, layer.bias);
        using var actual = layer.forward(x);
        Assert.True(actual.allclose(expected));
        layer.Adapters.Add(new AddConstant(1f));
        using var adapted = layer.forward(x);
        Assert.True(adapted.allclose(expected + 1));
    }

    [Fact]
    public void ConvMatchesFunctionalConv()
    {
        using var layer = new AdaptableConv2d(2, 3, 3, stride: 2, padding: 1);
        using var x = randn(1, 2, 8, 8);
        using var expected = nn.functional.conv2d(x, layer.weight, layer.bias, strides: new long[] { 2, 2 }, padding: new long[] { 1, 1 });
        using var actual = layer.forward(x);
        Assert.Equal(new long[] { 1, 3, 4, 4 }, actual.shape);
        Assert.True(actual.allclose(expected));
    }
}
