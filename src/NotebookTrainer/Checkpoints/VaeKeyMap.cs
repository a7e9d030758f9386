using NotebookTrainer.ModelConfigs;

namespace NotebookTrainer.Checkpoints;

/// <summary>
/// AutoencoderKL names: LDM <c>first_stage_model.*</c> (encoder.down / decoder.up numbered bottom-up) against
/// diffusers (decoder up_blocks numbered top-down), including the mid attention's 1×1 conv ↔ Linear change.
/// </summary>
public static class VaeKeyMap
{
    public const string LdmPrefix = "first_stage_model.";

    public static List<KeyMapping> Build(AutoencoderKLConfig config)
    {
        var map = new KeyMapBuilder("vae", LdmPrefix, "");
        var channels = config.BlockOutChannels;
        var layers = config.LayersPerBlock;
        var top = channels[^1];
        var latent = config.LatentChannels;

        map.Conv("encoder.conv_in", "encoder.conv_in", channels[0], config.InChannels, 3);
        for (var i = 0; i < channels.Length; i++)
        {
            var input = i == 0 ? channels[0] : channels[i - 1];
            for (var j = 0; j < layers; j++)
                Resnet(map, $"encoder.down.{i}.block.{j}", $"encoder.down_blocks.{i}.resnets.{j}", j == 0 ? input : channels[i], channels[i]);
            if (i < channels.Length - 1)
                map.Conv($"encoder.down.{i}.downsample.conv", $"encoder.down_blocks.{i}.downsamplers.0.conv", channels[i], channels[i], 3);
        }
        Mid(map, "encoder", top);
        map.Norm("encoder.norm_out", "encoder.conv_norm_out", top);
        map.Conv("encoder.conv_out", "encoder.conv_out", 2 * latent, top, 3);

        map.Conv("quant_conv", "quant_conv", 2 * latent, 2 * latent, 1);
        map.Conv("post_quant_conv", "post_quant_conv", latent, latent, 1);

        map.Conv("decoder.conv_in", "decoder.conv_in", top, latent, 3);
        Mid(map, "decoder", top);
        var reversed = channels.Reverse().ToArray();
        var previous = reversed[0];
        for (var i = 0; i < reversed.Length; i++)
        {
            var level = reversed.Length - 1 - i;
            for (var j = 0; j <= layers; j++)
                Resnet(map, $"decoder.up.{level}.block.{j}", $"decoder.up_blocks.{i}.resnets.{j}", j == 0 ? previous : reversed[i], reversed[i]);
            if (i < reversed.Length - 1)
                map.Conv($"decoder.up.{level}.upsample.conv", $"decoder.up_blocks.{i}.upsamplers.0.conv", reversed[i], reversed[i], 3);
            previous = reversed[i];
        }
        map.Norm("decoder.norm_out", "decoder.conv_norm_out", channels[0]);
        map.Conv("decoder.conv_out", "decoder.conv_out", config.OutChannels, channels[0], 3);
        return map.Mappings;
    }

    static void Mid(KeyMapBuilder map, string part, long c)
    {
        Resnet(map, $"{part}.mid.block_1", $"{part}.mid_block.resnets.0", c, c);
        map.Norm($"{part}.mid.attn_1.norm", $"{part}.mid_block.attentions.0.group_norm", c);
        foreach (var (ldm, diffusers) in new[] { ("q", "to_q"), ("k", "to_k"), ("v", "to_v"), ("proj_out", "to_out.0") })
            map.WeightAndBias($"{part}.mid.attn_1.{ldm}", $"{part}.mid_block.attentions.0.{diffusers}", [c, c], KeyTransform.ConvToLinear);
        Resnet(map, $"{part}.mid.block_2", $"{part}.mid_block.resnets.1", c, c);
    }

    static void Resnet(KeyMapBuilder map, string ldm, string diffusers, long input, long output)
    {
        map.Norm($"{ldm}.norm1", $"{diffusers}.norm1", input);
        map.Conv($"{ldm}.conv1", $"{diffusers}.conv1", output, input, 3);
        map.Norm($"{ldm}.norm2", $"{diffusers}.norm2", output);
        map.Conv($"{ldm}.conv2", $"{diffusers}.conv2", output, output, 3);
        if (input != output)
            map.Conv($"{ldm}.nin_shortcut", $"{diffusers}.conv_shortcut", output, input, 1);
    }
}
