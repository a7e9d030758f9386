using NotebookTrainer.Models.Layers;
using TorchSharp;
using static TorchSharp.torch;
using TorchSharp.Modules;

namespace NotebookTrainer.Tests.Networks;

// Small module trees whose class names and paths follow diffusers/transformers, so LoRA targeting and
// naming can be tested without the full Stable Diffusion models.

sealed class Attention : nn.Module<Tensor, Tensor, Tensor>
{
    public AdaptableLinear to_q, to_k, to_v;
    public ModuleList<nn.Module<Tensor, Tensor>> to_out;

    public Attention(long dim, long contextDim) : base(nameof(Attention))
    {
        to_q = new AdaptableLinear(dim, dim, hasBias: false);
        to_k = new AdaptableLinear(contextDim, dim, hasBias: false);
        to_v = new AdaptableLinear(contextDim, dim, hasBias: false);
        to_out = nn.ModuleList<nn.Module<Tensor, Tensor>>(new AdaptableLinear(dim, dim), nn.Dropout(0));
        RegisterComponents();
    }

    public override Tensor forward(Tensor x, Tensor context)
    {
        var q = to_q.forward(x);
        var k = to_k.forward(context);
        var v = to_v.forward(context);
        var attn = q.matmul(k.transpose(1, 2)).div(Math.Sqrt(q.shape[^1])).softmax(-1);
        return to_out[1].forward(to_out[0].forward(attn.matmul(v)));
    }
}

sealed class GELU : nn.Module<Tensor, Tensor>
{
    public AdaptableLinear proj;
    public GELU(long dim, long inner) : base(nameof(GELU)) { proj = new AdaptableLinear(dim, inner); RegisterComponents(); }
    public override Tensor forward(Tensor x) => nn.functional.gelu(proj.forward(x));
}

sealed class FeedForward : nn.Module<Tensor, Tensor>
{
    public ModuleList<nn.Module<Tensor, Tensor>> net;
    public FeedForward(long dim) : base(nameof(FeedForward))
    {
        net = nn.ModuleList<nn.Module<Tensor, Tensor>>(new GELU(dim, dim * 2), nn.Dropout(0), new AdaptableLinear(dim * 2, dim));
        RegisterComponents();
    }
    public override Tensor forward(Tensor x) => net[2].forward(net[1].forward(net[0].forward(x)));
}

sealed class BasicTransformerBlock : nn.Module<Tensor, Tensor, Tensor>
{
    public Attention attn1, attn2;
    public FeedForward ff;
    public BasicTransformerBlock(long dim, long contextDim) : base(nameof(BasicTransformerBlock))
    {
        attn1 = new Attention(dim, dim);
        attn2 = new Attention(dim, contextDim);
        ff = new FeedForward(dim);
        RegisterComponents();
    }
    public override Tensor forward(Tensor x, Tensor context)
    {
        x = x + attn1.forward(x, x);
        x = x + attn2.forward(x, context);
        return x + ff.forward(x);
    }
}

sealed class Transformer2DModel : nn.Module<Tensor, Tensor, Tensor>
{
    public AdaptableConv2d proj_in, proj_out;
    public ModuleList<BasicTransformerBlock> transformer_blocks;
    public Transformer2DModel(long channels, long contextDim) : base(nameof(Transformer2DModel))
    {
        proj_in = new AdaptableConv2d(channels, channels, 1);
        proj_out = new AdaptableConv2d(channels, channels, 1);
        transformer_blocks = nn.ModuleList(new BasicTransformerBlock(channels, contextDim));
        RegisterComponents();
    }
    public override Tensor forward(Tensor x, Tensor context)
    {
        var (b, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3]);
        var hidden = proj_in.forward(x).flatten(2).transpose(1, 2);
        hidden = transformer_blocks[0].forward(hidden, context);
        return x + proj_out.forward(hidden.transpose(1, 2).reshape(b, c, h, w));
    }
}

sealed class ResnetBlock2D : nn.Module<Tensor, Tensor, Tensor>
{
    public AdaptableConv2d conv1, conv2, conv_shortcut;
    public AdaptableLinear time_emb_proj;
    public ResnetBlock2D(long inChannels, long outChannels, long timeDim) : base(nameof(ResnetBlock2D))
    {
        conv1 = new AdaptableConv2d(inChannels, outChannels, 3, padding: 1);
        conv2 = new AdaptableConv2d(outChannels, outChannels, 3, padding: 1);
        conv_shortcut = new AdaptableConv2d(inChannels, outChannels, 1);
        time_emb_proj = new AdaptableLinear(timeDim, outChannels);
        RegisterComponents();
    }
    public override Tensor forward(Tensor x, Tensor temb)
    {
        var h = conv1.forward(nn.functional.silu(x)) + time_emb_proj.forward(temb).unsqueeze(-1).unsqueeze(-1);
        return conv_shortcut.forward(x) + conv2.forward(nn.functional.silu(h));
    }
}

sealed class Downsample2D : nn.Module<Tensor, Tensor>
{
    public AdaptableConv2d conv;
    public Downsample2D(long channels) : base(nameof(Downsample2D)) { conv = new AdaptableConv2d(channels, channels, 3, stride: 2, padding: 1); RegisterComponents(); }
    public override Tensor forward(Tensor x) => conv.forward(x);
}

sealed class CrossAttnDownBlock2D : nn.Module<Tensor, Tensor, Tensor, Tensor>
{
    public ModuleList<ResnetBlock2D> resnets;
    public ModuleList<Transformer2DModel> attentions;
    public ModuleList<Downsample2D> downsamplers;
    public CrossAttnDownBlock2D(long inChannels, long channels, long contextDim, long timeDim) : base(nameof(CrossAttnDownBlock2D))
    {
        resnets = nn.ModuleList(new ResnetBlock2D(inChannels, channels, timeDim));
        attentions = nn.ModuleList(new Transformer2DModel(channels, contextDim));
        downsamplers = nn.ModuleList(new Downsample2D(channels));
        RegisterComponents();
    }
    public override Tensor forward(Tensor x, Tensor temb, Tensor context) =>
        downsamplers[0].forward(attentions[0].forward(resnets[0].forward(x, temb), context));
}

/// <summary>A two-level U-Net-shaped tree: conv_in, time embedding, down_blocks.{0,1}, conv_out (not a target).</summary>
sealed class ToyUNet : nn.Module<Tensor, Tensor, Tensor, Tensor>
{
    public AdaptableConv2d conv_in, conv_out;
    public AdaptableLinear time_proj;
    public ModuleList<CrossAttnDownBlock2D> down_blocks;
    public const long Channels = 8, ContextDim = 6, TimeDim = 4;

    public ToyUNet() : base(nameof(ToyUNet))
    {
        conv_in = new AdaptableConv2d(4, Channels, 3, padding: 1);
        time_proj = new AdaptableLinear(1, TimeDim);
        down_blocks = nn.ModuleList(new CrossAttnDownBlock2D(Channels, Channels, ContextDim, TimeDim), new CrossAttnDownBlock2D(Channels, Channels, ContextDim, TimeDim));
        conv_out = new AdaptableConv2d(Channels, 4, 1);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x, Tensor timestep, Tensor context)
    {
        var temb = time_proj.forward(timestep.unsqueeze(-1).to(ScalarType.Float32) / 1000);
        var h = conv_in.forward(x);
        foreach (var block in down_blocks) h = block.forward(h, temb, context);
        return conv_out.forward(nn.functional.interpolate(h, size: new[] { x.shape[2], x.shape[3] }));
    }
}

sealed class CLIPAttention : nn.Module<Tensor, Tensor>
{
    public AdaptableLinear q_proj, k_proj, v_proj, out_proj;
    public CLIPAttention(long dim) : base(nameof(CLIPAttention))
    {
        (q_proj, k_proj, v_proj, out_proj) = (new(dim, dim), new(dim, dim), new(dim, dim), new(dim, dim));
        RegisterComponents();
    }
    public override Tensor forward(Tensor x)
    {
        var attn = q_proj.forward(x).matmul(k_proj.forward(x).transpose(1, 2)).softmax(-1);
        return out_proj.forward(attn.matmul(v_proj.forward(x)));
    }
}

sealed class CLIPMLP : nn.Module<Tensor, Tensor>
{
    public AdaptableLinear fc1, fc2;
    public CLIPMLP(long dim) : base(nameof(CLIPMLP)) { (fc1, fc2) = (new(dim, dim * 2), new(dim * 2, dim)); RegisterComponents(); }
    public override Tensor forward(Tensor x) => fc2.forward(nn.functional.gelu(fc1.forward(x)));
}

sealed class CLIPEncoderLayer : nn.Module<Tensor, Tensor>
{
    public CLIPAttention self_attn;
    public CLIPMLP mlp;
    public CLIPEncoderLayer(long dim) : base(nameof(CLIPEncoderLayer)) { (self_attn, mlp) = (new(dim), new(dim)); RegisterComponents(); }
    public override Tensor forward(Tensor x) { x = x + self_attn.forward(x); return x + mlp.forward(x); }
}

sealed class CLIPEncoder : nn.Module<Tensor, Tensor>
{
    public ModuleList<CLIPEncoderLayer> layers;
    public CLIPEncoder(long dim, int count) : base(nameof(CLIPEncoder)) { layers = nn.ModuleList(Enumerable.Range(0, count).Select(_ => new CLIPEncoderLayer(dim)).ToArray()); RegisterComponents(); }
    public override Tensor forward(Tensor x) { foreach (var l in layers) x = l.forward(x); return x; }
}

sealed class CLIPTextTransformer : nn.Module<Tensor, Tensor>
{
    public CLIPEncoder encoder;
    public CLIPTextTransformer(long dim, int count) : base(nameof(CLIPTextTransformer)) { encoder = new CLIPEncoder(dim, count); RegisterComponents(); }
    public override Tensor forward(Tensor x) => encoder.forward(x);
}

/// <summary>text_model.encoder.layers.N.{self_attn,mlp} like transformers' CLIPTextModel; input is already embedded.</summary>
sealed class ToyTextEncoder : nn.Module<Tensor, Tensor>
{
    public CLIPTextTransformer text_model;
    public ToyTextEncoder(int layers = 2) : base(nameof(ToyTextEncoder)) { text_model = new CLIPTextTransformer(ToyUNet.ContextDim, layers); RegisterComponents(); }
    public override Tensor forward(Tensor x) => text_model.forward(x);
}
