using NotebookTrainer.Models.Layers;
using TorchSharp;
using static TorchSharp.torch;

namespace NotebookTrainer.Models;

/// <summary>
/// Activation checkpointing (PyTorch's reentrant <c>torch.utils.checkpoint</c>): the forward of a block runs
/// without keeping its activations; backward runs it again with grad enabled and differentiates that.
/// Memory for one block's activations instead of all of them, for about one extra forward.
/// </summary>
public static class GradientCheckpoint
{
    /// <summary>
    /// Runs <paramref name="forward"/> on <paramref name="inputs"/> (entries may be null) checkpointed when
    /// grad is enabled and something it touches needs a gradient; otherwise runs it plainly. The trainable
    /// parameters of <paramref name="module"/>, including those of weight adapters attached to its layers,
    /// are passed to the autograd node as inputs, so a frozen model with a LoRA gets gradients even when no
    /// input requires grad (the failure mode of PyTorch's reentrant checkpoint).
    /// </summary>
    public static Tensor Run(nn.Module module, Func<Tensor?[], Tensor> forward, params Tensor?[] inputs)
    {
        if (!is_grad_enabled())
            return forward(inputs);
        var trainable = TrainableParameters(module);
        if (trainable.Count == 0 && !inputs.Any(t => t is not null && t.requires_grad))
            return forward(inputs);
        var args = new object?[2 + inputs.Length + trainable.Count];
        args[0] = forward;
        args[1] = inputs.Length;
        inputs.CopyTo(args, 2);
        for (var i = 0; i < trainable.Count; i++)
            args[2 + inputs.Length + i] = trainable[i];
        return CheckpointFunction.apply(args!);
    }

    static List<Tensor> TrainableParameters(nn.Module module)
    {
        var result = module.parameters().Where(p => p.requires_grad).Cast<Tensor>().ToList();
        foreach (var layer in module.modules())
        {
            var adapters = layer switch
            {
                AdaptableLinear linear => linear.Adapters,
                AdaptableConv2d conv => conv.Adapters,
                _ => null,
            };
            if (adapters is null) continue;
            foreach (var adapter in adapters.OfType<nn.Module>())
                result.AddRange(adapter.parameters().Where(p => p.requires_grad));
        }
        return result;
    }

    sealed class CheckpointFunction : autograd.SingleTensorFunction<CheckpointFunction>
    {
        public override string Name => nameof(CheckpointFunction);

        public override Tensor forward(autograd.AutogradContext ctx, params object[] vars)
        {
            var run = (Func<Tensor?[], Tensor>)vars[0];
            var inputCount = (int)vars[1];
            var inputs = new Tensor?[inputCount];
            for (var i = 0; i < inputCount; i++)
                inputs[i] = vars[2 + i] as Tensor;
            ctx.save_data("run", run);
            ctx.save_data("inputCount", inputCount);
            ctx.save_data("inputNeedsGrad", inputs.Select(t => t is not null && t.requires_grad).ToArray());
            ctx.save_data("parameters", vars.Skip(2 + inputCount).Cast<Tensor>().ToArray());
            ctx.save_for_backward(inputs.ToList()!);
            return run(inputs);
        }

        public override List<Tensor> backward(autograd.AutogradContext ctx, Tensor grad_output)
        {
            var run = (Func<Tensor?[], Tensor>)ctx.get_data("run");
            var inputCount = (int)ctx.get_data("inputCount");
            var needsGrad = (bool[])ctx.get_data("inputNeedsGrad");
            var parameters = (Tensor[])ctx.get_data("parameters");
            var saved = ctx.get_saved_variables();

            var grads = new List<Tensor>(new Tensor[2 + inputCount + parameters.Length]);
            using var scope = NewDisposeScope();
            using (enable_grad())
            {
                var inputs = new Tensor?[inputCount];
                var wrt = new List<Tensor>();
                var wrtSlot = new List<int>();
                for (var i = 0; i < inputCount; i++)
                {
                    if (saved[i] is null) continue;
                    inputs[i] = saved[i].detach().requires_grad_(needsGrad[i]);
                    if (!needsGrad[i]) continue;
                    wrt.Add(inputs[i]!);
                    wrtSlot.Add(2 + i);
                }
                for (var i = 0; i < parameters.Length; i++)
                {
                    wrt.Add(parameters[i]);
                    wrtSlot.Add(2 + inputCount + i);
                }
                var output = run(inputs);
                var computed = autograd.grad([output], wrt, [grad_output], allow_unused: true);
                for (var i = 0; i < computed.Count; i++)
                {
                    if (computed[i].IsInvalid) continue;
                    // Handed to libtorch after this method returns, so they outlive this scope; they belong to the caller's
                    // (the training step's), which frees them — detached, each step kept a copy of every gradient until the GC ran.
                    grads[wrtSlot[i]] = computed[i].MoveToOuterDisposeScope();
                }
            }
            return grads;
        }
    }
}
