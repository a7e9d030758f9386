using NotebookTrainer.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace NotebookTrainer.Models.Layers;

/// <summary>
/// Linear and conv2d for weights stored in bf16 or fp16 on a CPU without matrix units for that type. There
/// libtorch runs those matmuls and convolutions through scalar fallbacks (a bf16 matmul measured about 1% of
/// fp32 on an AVX2 CPU), so these layers widen input and weight to fp32, multiply with fp32 accumulation and
/// round the output back to the storage type: the arithmetic of a native bf16 GEMM, at fp32 speed.
/// When a gradient is wanted, backward keeps the input and weight in their storage type and widens them again
/// there: plain autograd through the widening would keep an fp32 copy of every weight (for the input's gradient)
/// and of every input (for the weight's), so storing in bf16 would save no memory during a step.
/// </summary>
static class Float32Compute
{
    /// <summary>Whether math on <paramref name="tensor"/>'s dtype and device should run in fp32 (attention too).</summary>
    public static bool Applies(Tensor tensor) =>
        tensor.dtype is ScalarType.BFloat16 or ScalarType.Float16 && tensor.device.type == DeviceType.CPU &&
        !TorchRuntime.CpuComputesNatively(tensor.dtype);

    public static Tensor Linear(Tensor input, Tensor weight, Tensor? bias) =>
        WantsGradient(input, weight, bias) ? LinearFunction.apply(input, weight, bias) : WidenedLinear(input, weight, bias);

    public static Tensor Conv2d(Tensor input, Tensor weight, Tensor? bias, long stride, long padding) =>
        WantsGradient(input, weight, bias) ? Conv2dFunction.apply(input, weight, bias, stride, padding) : WidenedConv2d(input, weight, bias, stride, padding);

    static bool WantsGradient(Tensor input, Tensor weight, Tensor? bias) =>
        is_grad_enabled() && (input.requires_grad || weight.requires_grad || bias is { requires_grad: true });

    /// <summary>Which of input, weight and bias want a gradient; the input is saved only for the weight's.</summary>
    sealed record Needs(bool Input, bool Weight, bool Bias)
    {
        public static Needs Of(autograd.AutogradContext ctx, Tensor input, Tensor weight, Tensor? bias)
        {
            var needs = new Needs(input.requires_grad, weight.requires_grad, bias is { requires_grad: true });
            ctx.save_for_backward(needs.Weight ? [weight, input] : [weight]);
            ctx.save_data("needs", needs);
            return needs;
        }
    }

    static Tensor WidenedLinear(Tensor input, Tensor weight, Tensor? bias)
    {
        using var scope = NewDisposeScope();
        return nn.functional.linear(input.to(ScalarType.Float32), weight.to(ScalarType.Float32), bias?.to(ScalarType.Float32))
            .to(weight.dtype).MoveToOuterDisposeScope();
    }

    static Tensor WidenedConv2d(Tensor input, Tensor weight, Tensor? bias, long stride, long padding)
    {
        using var scope = NewDisposeScope();
        return nn.functional.conv2d(input.to(ScalarType.Float32), weight.to(ScalarType.Float32), bias?.to(ScalarType.Float32),
            strides: [stride, stride], padding: [padding, padding]).to(weight.dtype).MoveToOuterDisposeScope();
    }

    static Tensor? Outer(Tensor? gradient) => gradient?.MoveToOuterDisposeScope();

    sealed class LinearFunction : autograd.SingleTensorFunction<LinearFunction>
    {
        public override string Name => "Float32ComputeLinear";

        public override Tensor forward(autograd.AutogradContext ctx, params object[] vars)
        {
            var (input, weight, bias) = ((Tensor)vars[0], (Tensor)vars[1], vars[2] as Tensor);
            Needs.Of(ctx, input, weight, bias);
            return WidenedLinear(input, weight, bias);
        }

        public override List<Tensor> backward(autograd.AutogradContext ctx, Tensor gradOutput)
        {
            using var scope = NewDisposeScope();
            var needs = (Needs)ctx.get_data("needs");
            var saved = ctx.get_saved_variables();
            var weight = saved[0];
            var grad = gradOutput.to(ScalarType.Float32);
            var rows = grad.reshape(-1, grad.shape[^1]);
            var gradInput = needs.Input ? grad.matmul(weight.to(ScalarType.Float32)).to(weight.dtype) : null;
            var gradWeight = needs.Weight ? rows.t().matmul(saved[1].to(ScalarType.Float32).reshape(rows.shape[0], -1)).to(weight.dtype) : null;
            var gradBias = needs.Bias ? rows.sum([0]).to(weight.dtype) : null;
            return [Outer(gradInput)!, Outer(gradWeight)!, Outer(gradBias)!];
        }
    }

    sealed class Conv2dFunction : autograd.SingleTensorFunction<Conv2dFunction>
    {
        public override string Name => "Float32ComputeConv2d";

        public override Tensor forward(autograd.AutogradContext ctx, params object[] vars)
        {
            var (input, weight, bias) = ((Tensor)vars[0], (Tensor)vars[1], vars[2] as Tensor);
            var (stride, padding) = ((long)vars[3], (long)vars[4]);
            Needs.Of(ctx, input, weight, bias);
            ctx.save_data("geometry", (stride, padding, input.shape[2], input.shape[3]));
            return WidenedConv2d(input, weight, bias, stride, padding);
        }

        public override List<Tensor> backward(autograd.AutogradContext ctx, Tensor gradOutput)
        {
            using var scope = NewDisposeScope();
            var needs = (Needs)ctx.get_data("needs");
            var saved = ctx.get_saved_variables();
            var weight = saved[0];
            var (stride, padding, height, width) = ((long, long, long, long))ctx.get_data("geometry");
            var k = weight.shape[2];
            var grad = gradOutput.to(ScalarType.Float32);
            Tensor? gradInput = null, gradWeight = null, gradBias = null;
            if (needs.Input)
            {
                // The input gradient of a convolution is the transposed convolution with the same weight; output_padding
                // restores the rows and columns a strided convolution dropped.
                long Extra(long size) => (size + 2 * padding - k) % stride;
                gradInput = nn.functional.conv_transpose2d(grad, weight.to(ScalarType.Float32),
                    strides: [stride, stride], padding: [padding, padding], output_padding: [Extra(height), Extra(width)]).to(weight.dtype);
            }
            if (needs.Weight)
            {
                // The weight gradient multiplies the output gradient with the input patches each output position saw.
                var patches = nn.functional.unfold(saved[1].to(ScalarType.Float32), k, 1, padding, stride);
                gradWeight = einsum("bol,bkl->ok", grad.flatten(2), patches).reshape(weight.shape).to(weight.dtype);
            }
            if (needs.Bias) gradBias = grad.sum([0, 2, 3]).to(weight.dtype);
            return [Outer(gradInput)!, Outer(gradWeight)!, Outer(gradBias)!, null!, null!];
        }
    }
}
