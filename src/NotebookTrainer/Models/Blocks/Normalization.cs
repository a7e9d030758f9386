using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace NotebookTrainer.Models.Blocks;

/// <summary>
/// GroupNorm with affine weight 1 and bias 0, as nn.GroupNorm initialises them. TorchSharp 0.107's
/// GroupNorm leaves its affine parameters uninitialised (torch.empty), which gives NaNs in a fresh model.
/// </summary>
public static class Normalization
{
    public static GroupNorm GroupNorm(long groups, long channels, double eps, ScalarType? dtype, Device? device)
    {
        var norm = nn.GroupNorm(groups, channels, eps, affine: true, device: device, dtype: dtype);
        using (no_grad())
        {
            nn.init.ones_(norm.weight!);
            nn.init.zeros_(norm.bias!);
        }
        return norm;
    }
}
