using NotebookTrainer.ModelConfigs;
using NotebookTrainer.Models.Layers;
using NotebookTrainer.Models.UNet;
using static TorchSharp.torch;

namespace NotebookTrainer.Tests.Models;

public class Float32ComputeTests
{
    [Theory]
    [InlineData(ScalarType.BFloat16)]
    [InlineData(ScalarType.Float16)]
    public void LinearAndConvRoundTheFloat32ResultToTheStorageType(ScalarType dtype)
    {
        manual_seed(5);
        using var scope = NewDisposeScope();
        var x = randn(2, 7, 24).to(dtype);
        var w = randn(16, 24).to(dtype);
        var b = randn(16).to(dtype);
        var linear = Float32Compute.Linear(x, w, b);
        Assert.Equal(dtype, linear.dtype);
        Assert.True(linear.allclose(nn.functional.linear(x.to(ScalarType.Float32), w.to(ScalarType.Float32), b.to(ScalarType.Float32)).to(dtype), 0, 0));

        var image = randn(1, 3, 9, 9).to(dtype);
        var kernel = randn(4, 3, 3, 3).to(dtype);
        var conv = Float32Compute.Conv2d(image, kernel, null, stride: 2, padding: 1);
        Assert.Equal(new long[] { 1, 4, 5, 5 }, conv.shape);
        Assert.True(conv.allclose(nn.functional.conv2d(image.to(ScalarType.Float32), kernel.to(ScalarType.Float32), strides: [2, 2], padding: [1, 1]).to(dtype), 0, 0));
    }

    // A frozen bf16 weight takes the custom backward (weight widened again there); its input gradient must equal what
    // autograd computes through the plain widened operation.
    [Theory]
    [InlineData("linear", 0, 0, 13, 10)]
    [InlineData("conv", 3, 1, 13, 10)]
    [InlineData("conv-stride2", 3, 2, 13, 10)]
    [InlineData("conv-stride2", 3, 2, 16, 12)]
    [InlineData("conv", 1, 1, 8, 8)]
    public void FrozenWeightInputGradientEqualsAutograd(string kind, int kernel, int stride, int height, int width)
    {
        manual_seed(6);
        using var scope = NewDisposeScope();
        const ScalarType dtype = ScalarType.BFloat16;
        var isLinear = kind == "linear";
        var padding = kernel / 2;
        var input = (isLinear ? randn(2, height * width, 12) : randn(2, 12, height, width)).to(dtype);
        var weight = (isLinear ? randn(20, 12) : randn(20, 12, kernel, kernel)).to(dtype) * 0.1;
        var bias = randn(20).to(dtype);
        Tensor Run(Tensor x) => isLinear ? Float32Compute.Linear(x, weight, bias) : Float32Compute.Conv2d(x, weight, bias, stride, padding);
        Tensor Plain(Tensor x) => (isLinear
            ? nn.functional.linear(x.to(ScalarType.Float32), weight.to(ScalarType.Float32), bias.to(ScalarType.Float32))
            : nn.functional.conv2d(x.to(ScalarType.Float32), weight.to(ScalarType.Float32), bias.to(ScalarType.Float32), strides: [stride, stride], padding: [padding, padding])).to(dtype);

        var ours = input.detach().requires_grad_(true);
        var output = Run(ours);
        var upstream = randn_like(output, dtype: ScalarType.Float32).to(dtype);
        output.backward([upstream]);
        var reference = input.detach().requires_grad_(true);
        Plain(reference).backward([upstream]);

        Assert.Equal(input.shape, ours.grad!.shape);
        Assert.Equal(dtype, ours.grad.dtype);
        var scale = reference.grad!.abs().max().to(ScalarType.Float32).item<float>();
        var error = (ours.grad.to(ScalarType.Float32) - reference.grad.to(ScalarType.Float32)).abs().max().item<float>();
        Assert.True(error <= 0.01f * scale, $"{kind}: input gradient off by {error} (scale {scale})");
    }

    [Fact]
    public void TrainableWeightsGetGradientsInTheirOwnType()
    {
        manual_seed(7);
        using var scope = NewDisposeScope();
        var input = randn(3, 8).to(ScalarType.BFloat16).requires_grad_(true);
        var weight = (randn(5, 8) * 0.1).to(ScalarType.BFloat16).requires_grad_(true);
        Float32Compute.Linear(input, weight, null).to(ScalarType.Float32).sum().backward();
        Assert.Equal(ScalarType.BFloat16, weight.grad!.dtype);
        Assert.True(weight.grad.to(ScalarType.Float32).allclose(input.sum(0L).to(ScalarType.Float32).expand(5, 8), rtol: 1e-2, atol: 1e-2));
        Assert.True(input.grad!.to(ScalarType.Float32).allclose(weight.sum(0L).to(ScalarType.Float32).expand(3, 8), rtol: 1e-2, atol: 1e-2));
    }

    [Fact]
    public void FrozenBFloat16UNetMatchesFloat32WeightsWithinBFloat16Rounding()
    {
        manual_seed(8);
        using var scope = NewDisposeScope();
        using var reference = new UNet2DConditionModel(UNet2DConditionConfig.Tiny);
        using var bf16 = new UNet2DConditionModel(UNet2DConditionConfig.Tiny, ScalarType.BFloat16);
        using (no_grad())
            foreach (var ((_, from), (_, to)) in reference.named_parameters().Zip(bf16.named_parameters()))
            {
                to.copy_(from);
                from.copy_(to.to(ScalarType.Float32));   // both sides hold the same bf16-representable values
            }
        foreach (var p in bf16.parameters().Concat(reference.parameters())) p.requires_grad = false;
        var latents = randn(1, 4, 8, 8);
        var text = randn(1, 77, 64);
        var t = tensor(new long[] { 300 });

        var x32 = latents.clone().requires_grad_(true);
        var out32 = reference.forward(x32, t, text);
        out32.square().mean().backward();
        var x16 = latents.to(ScalarType.BFloat16).requires_grad_(true);
        var out16 = bf16.forward(x16, t, text.to(ScalarType.BFloat16));
        out16.to(ScalarType.Float32).square().mean().backward();

        Assert.Equal(ScalarType.BFloat16, out16.dtype);
        Assert.True(out16.to(ScalarType.Float32).allclose(out32, rtol: 0.05, atol: 0.05), "bf16 forward strays from fp32");
        var expected = x32.grad!;
        var gradError = (x16.grad!.to(ScalarType.Float32) - expected).abs().max().item<float>();
        Assert.True(gradError <= 0.05f * expected.abs().max().item<float>(), $"bf16 input gradient off by {gradError}");
    }
}
