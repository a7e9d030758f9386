using NotebookTrainer.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace NotebookTrainer.Models.Layers;

/// <summary>
/// Linear and conv2d for weights stored in bf16 or fp16 on a CPU without matrix units for that type. There
/// libtorch runs those matmuls and convolutions through scalar fallbacks (a bf16 matmul measured about 1% of
/// fp32 on an AVX2 CPU), so these layers widen input and weight to fp32, multiply with fp32 accumulation and
/// round the output back to the storage type: the arithmetic of a native bf16 GEMM, at fp32 speed.
/// A frozen weight is widened again in backward rather than kept widened for it, so storing it in bf16 still
/// halves its memory during a step.
/// </summary>
static class Float32Compute
{
    /// <summary>Whether math on <paramref name="tensor"/>'s dtype and device should run in fp32 (attention too).</summary>
    public static bool Applies(Tensor tensor) =>
        tensor.dtype is ScalarType.BFloat16 or ScalarType.Float16 && tensor.device.type == DeviceType.CPU &&
        !TorchRuntime.CpuComputesNatively(tensor.dtype);

    public static Tensor Linear(Tensor input, Tensor weight, Tensor? bias) =>
        RecordsWidenedWeight(input, weight, bias) ? FrozenLinear.apply(input, weight, bias) : WidenedLinear(input, weight, bias);

    public static Tensor Conv2d(Tensor input, Tensor weight, Tensor? bias, long stride, long padding) =>
        RecordsWidenedWeight(input, weight, bias) ? FrozenConv2d.apply(input, weight, bias, stride, padding) : WidenedConv2d(input, weight, bias, stride, padding);

    /// <summary>Whether plain autograd would keep the widened copy of a frozen weight for the input's gradient.</summary>
    static bool RecordsWidenedWeight(Tensor input, Tensor weight, Tensor? bias) =>
        is_grad_enabled() && input.requires_grad && !weight.requires_grad && bias is not { requires_grad: true };

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

    sealed class FrozenLinear : autograd.SingleTensorFunction<FrozenLinear>
    {
        public override string Name => "Float32ComputeFrozenLinear";

        public override Tensor forward(autograd.AutogradContext ctx, params object[] vars)
        {
            var (input, weight, bias) = ((Tensor)vars[0], (Tensor)vars[1], vars[2] as Tensor);
            ctx.save_for_backward([weight]);
            return WidenedLinear(input, weight, bias);
        }

        public override List<Tensor> backward(autograd.AutogradContext ctx, Tensor gradOutput)
        {
            using var scope = NewDisposeScope();
            var weight = ctx.get_saved_variables()[0];
            var gradInput = gradOutput.to(ScalarType.Float32).matmul(weight.to(ScalarType.Float32)).to(weight.dtype).MoveToOuterDisposeScope();
            return [gradInput, null!, null!];
        }
    }

    sealed class FrozenConv2d : autograd.SingleTensorFunction<FrozenConv2d>
    {
        public override string Name => "Float32ComputeFrozenConv2d";

        public override Tensor forward(autograd.AutogradContext ctx, params object[] vars)
        {
            var (input, weight, bias) = ((Tensor)vars[0], (Tensor)vars[1], vars[2] as Tensor);
            var (stride, padding) = ((long)vars[3], (long)vars[4]);
            ctx.save_for_backward([weight]);
            ctx.save_data("geometry", (stride, padding, input.shape[2], input.shape[3]));
            return WidenedConv2d(input, weight, bias, stride, padding);
        }

        public override List<Tensor> backward(autograd.AutogradContext ctx, Tensor gradOutput)
        {
            using var scope = NewDisposeScope();
            var weight = ctx.get_saved_variables()[0];
            var (stride, padding, height, width) = ((long, long, long, long))ctx.get_data("geometry");
            var k = weight.shape[2];
            // The input gradient of a convolution is the transposed convolution with the same weight; output_padding
            // restores the rows and columns a strided convolution dropped.
            long Extra(long size) => (size + 2 * padding - k) % stride;
            var gradInput = nn.functional.conv_transpose2d(gradOutput.to(ScalarType.Float32), weight.to(ScalarType.Float32),
                strides: [stride, stride], padding: [padding, padding], output_padding: [Extra(height), Extra(width)])
                .to(weight.dtype).MoveToOuterDisposeScope();
            return [gradInput, null!, null!, null!, null!];
        }
    }
}
