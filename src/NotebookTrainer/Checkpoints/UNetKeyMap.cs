using NotebookTrainer.ModelConfigs;

namespace NotebookTrainer.Checkpoints;

/// <summary>
/// U-Net names of SD1/SD2/SDXL: the LDM <c>model.diffusion_model.*</c> layout (input_blocks / middle_block /
/// output_blocks) against diffusers' UNet2DConditionModel (down_blocks / mid_block / up_blocks), generated from the
/// U-Net config the way diffusers builds the model, so every name comes with its shape. SDXL's add_embedding is the
/// LDM <c>label_emb.0</c> (a Sequential of Linear, SiLU, Linear).
/// </summary>
public static class UNetKeyMap
{
    public const string LdmPrefix = "model.diffusion_model.";

    public static List<KeyMapping> Build(UNet2DConditionConfig config)
    {
        var map = new KeyMapBuilder("unet", LdmPrefix, "");
        var channels = config.BlockOutChannels;
        var timeEmbed = channels[0] * 4;
        var layers = config.LayersPerBlock;

        map.WeightAndBias("time_embed.0", "time_embedding.linear_1", [timeEmbed, channels[0]]);
        map.WeightAndBias("time_embed.2", "time_embedding.linear_2", [timeEmbed, timeEmbed]);
        if (config.HasTextTimeEmbedding)
        {
            map.WeightAndBias("label_emb.0.0", "add_embedding.linear_1", [timeEmbed, config.ProjectionClassEmbeddingsInputDim!.Value]);
            map.WeightAndBias("label_emb.0.2", "add_embedding.linear_2", [timeEmbed, timeEmbed]);
        }
        map.Conv("input_blocks.0.0", "conv_in", channels[0], config.InChannels, 3);

        for (var i = 0; i < channels.Length; i++)
        {
            var output = channels[i];
            var input = i == 0 ? channels[0] : channels[i - 1];
            for (var j = 0; j < layers; j++)
            {
                var ldm = $"input_blocks.{1 + i * (layers + 1) + j}";
                Resnet(map, $"{ldm}.0", $"down_blocks.{i}.resnets.{j}", j == 0 ? input : output, output, timeEmbed);
                if (config.DownBlockHasAttention(i))
                    Attention(map, $"{ldm}.1", $"down_blocks.{i}.attentions.{j}", output, config.TransformerDepth(i), config);
            }
            if (i < channels.Length - 1)
                map.Conv($"input_blocks.{(i + 1) * (layers + 1)}.0.op", $"down_blocks.{i}.downsamplers.0.conv", output, output, 3);
        }

        var top = channels[^1];
        Resnet(map, "middle_block.0", "mid_block.resnets.0", top, top, timeEmbed);
        Attention(map, "middle_block.1", "mid_block.attentions.0", top, config.TransformerDepth(channels.Length - 1), config);
        Resnet(map, "middle_block.2", "mid_block.resnets.1", top, top, timeEmbed);

        var reversed = channels.Reverse().ToArray();
        var previous = reversed[0];
        for (var i = 0; i < reversed.Length; i++)
        {
            var output = reversed[i];
            var input = reversed[Math.Min(i + 1, reversed.Length - 1)];
            var attention = config.UpBlockHasAttention(i);
            for (var j = 0; j <= layers; j++)
            {
                var skip = j == layers ? input : output;
                var resnetIn = (j == 0 ? previous : output) + skip;
                var ldm = $"output_blocks.{i * (layers + 1) + j}";
                Resnet(map, $"{ldm}.0", $"up_blocks.{i}.resnets.{j}", resnetIn, output, timeEmbed);
                if (attention)
                    Attention(map, $"{ldm}.1", $"up_blocks.{i}.attentions.{j}", output, config.TransformerDepth(channels.Length - 1 - i), config);
            }
            if (i < reversed.Length - 1)
                map.Conv($"output_blocks.{i * (layers + 1) + layers}.{(attention ? 2 : 1)}.conv", $"up_blocks.{i}.upsamplers.0.conv", output, output, 3);
            previous = output;
        }

        map.Norm("out.0", "conv_norm_out", channels[0]);
        map.Conv("out.2", "conv_out", config.OutChannels, channels[0], 3);
        return map.Mappings;
    }

    static void Resnet(KeyMapBuilder map, string ldm, string diffusers, long input, long output, long timeEmbed)
    {
        map.Norm($"{ldm}.in_layers.0", $"{diffusers}.norm1", input);
        map.Conv($"{ldm}.in_layers.2", $"{diffusers}.conv1", output, input, 3);
        map.WeightAndBias($"{ldm}.emb_layers.1", $"{diffusers}.time_emb_proj", [output, timeEmbed]);
        map.Norm($"{ldm}.out_layers.0", $"{diffusers}.norm2", output);
        map.Conv($"{ldm}.out_layers.3", $"{diffusers}.conv2", output, output, 3);
        if (input != output)
            map.Conv($"{ldm}.skip_connection", $"{diffusers}.conv_shortcut", output, input, 1);
    }

    /// <summary>SpatialTransformer and Transformer2DModel share the inner names; only the prefix changes.</summary>
    static void Attention(KeyMapBuilder map, string ldm, string diffusers, long c, int depth, UNet2DConditionConfig config)
    {
        long[] projection = config.UseLinearProjection ? [c, c] : [c, c, 1, 1];
        map.Norm($"{ldm}.norm", $"{diffusers}.norm", c);
        map.WeightAndBias($"{ldm}.proj_in", $"{diffusers}.proj_in", projection);
        for (var b = 0; b < depth; b++)
        {
            var block = $"transformer_blocks.{b}";
            foreach (var (attn, context) in new[] { ("attn1", c), ("attn2", config.CrossAttentionDim) })
            {
                map.Add($"{ldm}.{block}.{attn}.to_q.weight", $"{diffusers}.{block}.{attn}.to_q.weight", [c, c]);
                map.Add($"{ldm}.{block}.{attn}.to_k.weight", $"{diffusers}.{block}.{attn}.to_k.weight", [c, context]);
                map.Add($"{ldm}.{block}.{attn}.to_v.weight", $"{diffusers}.{block}.{attn}.to_v.weight", [c, context]);
                map.WeightAndBias($"{ldm}.{block}.{attn}.to_out.0", $"{diffusers}.{block}.{attn}.to_out.0", [c, c]);
            }
            map.WeightAndBias($"{ldm}.{block}.ff.net.0.proj", $"{diffusers}.{block}.ff.net.0.proj", [c * 8, c]);
            map.WeightAndBias($"{ldm}.{block}.ff.net.2", $"{diffusers}.{block}.ff.net.2", [c, c * 4]);
            for (var n = 1; n <= 3; n++)
                map.Norm($"{ldm}.{block}.norm{n}", $"{diffusers}.{block}.norm{n}", c);
        }
        map.WeightAndBias($"{ldm}.proj_out", $"{diffusers}.proj_out", projection);
    }
}
