using System.Diagnostics;
using System.Text;
using NotebookTrainer.SafeTensors;
using TorchSharp;
using static TorchSharp.torch;

namespace NotebookTrainer.Tests.SafeTensors;

public class SafeTensorsFuzzTests
{
    [Fact]
    public void Thousands_of_mutated_files_only_ever_raise_SafeTensorsFormatException()
    {
        using var dir = new TempDir();
        var seedPath = dir.File("seed.safetensors");
        SafeTensorsWriter.Write(seedPath, new Dictionary<string, Tensor>
        {
            ["lora_unet_mid_block_attentions_0_proj_in.lora_down.weight"] = torch.ones(new long[] { 4, 8 }, ScalarType.Float16),
            ["lora_unet_mid_block_attentions_0_proj_in.lora_up.weight"] = torch.ones(new long[] { 8, 4 }, ScalarType.Float16),
            ["lora_unet_mid_block_attentions_0_proj_in.alpha"] = torch.tensor(4.0f),
            ["ids"] = torch.arange(0, 5, ScalarType.Int64),
            ["mask"] = torch.tensor(new[] { true, false }),
        }, new Dictionary<string, string> { ["ss_network_dim"] = "4", ["ss_network_args"] = "{\"conv_dim\": \"4\"}" });
        var seed = File.ReadAllBytes(seedPath);
        var headerLength = (int)BitConverter.ToUInt64(seed, 0);

        var random = new Random(20261123);
        var path = dir.File("mutant.safetensors");
        int opened = 0, rejected = 0;
        var clock = Stopwatch.StartNew();
        for (var iteration = 0; iteration < 4000; iteration++)
        {
            var mutant = Mutate(seed, headerLength, random);
            File.WriteAllBytes(path, mutant);
            try
            {
                using var file = SafeTensorsFile.Open(path);
                foreach (var entry in file.Entries.Values.Where(e => SafeTensorsDType.ToScalarType(e.DType) != null))
                    file.Load(entry.Name).Dispose();
                SafeTensorsFile.DataSha256(path);
                opened++;
            }
            catch (SafeTensorsFormatException)
            {
                rejected++;
            }
            catch (Exception e)
            {
                Assert.Fail($"iteration {iteration}: {e.GetType().Name}: {e.Message}\nheader: {Encoding.UTF8.GetString(mutant.AsSpan(8, Math.Min(mutant.Length - 8, 400)))}");
            }
        }
        Assert.True(rejected > 1000, $"only {rejected} rejected");
        Assert.True(opened > 50, $"only {opened} opened");
        Assert.True(clock.Elapsed < TimeSpan.FromMinutes(2), $"took {clock.Elapsed}");
    }

    static byte[] Mutate(byte[] seed, int headerLength, Random random)
    {
        var bytes = new List<byte>(seed);
        var mutations = 1 + random.Next(3);
        for (var m = 0; m < mutations; m++)
        {
            var headerEnd = Math.Min(bytes.Count, 8 + headerLength);
            var at = 8 + random.Next(Math.Max(1, headerEnd - 8));
            switch (random.Next(8))
            {
                case 0 when at < bytes.Count:
                    bytes[at] = (byte)random.Next(256);
                    break;
                case 1 when at < bytes.Count && char.IsAsciiDigit((char)bytes[at]):
                    bytes[at] = (byte)('0' + random.Next(10));
                    break;
                case 1:
                    var digit = bytes.Count > 8 ? bytes.FindIndex(8, b => char.IsAsciiDigit((char)b)) : -1;
                    if (digit >= 0) bytes[digit] = (byte)('0' + random.Next(10));
                    break;
                case 2:
                    bytes.InsertRange(Math.Min(at, bytes.Count), Encoding.Latin1.GetBytes(Fragments[random.Next(Fragments.Length)]));
                    break;
                case 3 when at < bytes.Count:
                    bytes.RemoveRange(at, Math.Min(bytes.Count - at, 1 + random.Next(12)));
                    break;
                case 4:
                    var keep = random.Next(bytes.Count + 1);
                    bytes.RemoveRange(keep, bytes.Count - keep);
                    break;
                case 5:
                    var length = BitConverter.GetBytes(random.Next(3) switch
                    {
                        0 => (ulong)(headerLength + random.Next(-16, 17)),
                        1 => (ulong)random.NextInt64(),
                        _ => (ulong)random.Next(bytes.Count + 64),
                    });
                    for (var i = 0; i < 8 && i < bytes.Count; i++) bytes[i] = length[i];
                    break;
                case 6 when at < bytes.Count:
                    bytes[at] = (byte)(bytes[at] ^ (1 << random.Next(8)));
                    break;
                default:
                    bytes.AddRange(new byte[random.Next(1, 16)]);
                    break;
            }
        }
        return bytes.ToArray();
    }

    static readonly string[] Fragments =
    [
        "-", "-1", "0", "99999999999999999999", "1e308", "null", "\"", "{", "}", "[", "]", ",", ":", "\\u0000",
        "\"F8_E4M3\"", "\"U16\"", "\"dtype\"", "[0,0]", "[]", "\"__metadata__\":{},", "\xff\xfe",
    ];
}
