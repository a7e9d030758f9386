using System.Security.Cryptography;
using System.Text;
using NotebookTrainer.SafeTensors;
using TorchSharp;
using static TorchSharp.torch;

namespace NotebookTrainer.Tests.SafeTensors;

public class SafeTensorsRoundTripTests
{
    static Dictionary<string, Tensor> SampleTensors()
    {
        var g = new Generator(7);
        return new Dictionary<string, Tensor>
        {
            ["z.f32"] = torch.randn(new long[] { 3, 5 }, generator: g),
            ["a.f16"] = torch.randn(new long[] { 4, 2, 3 }, generator: g).to_type(ScalarType.Float16),
            ["m.bf16"] = torch.randn(new long[] { 7 }, generator: g).to_type(ScalarType.BFloat16),
            ["f64"] = torch.randn(new long[] { 2, 2 }, ScalarType.Float64, generator: g),
            ["i64"] = torch.arange(0, 77, ScalarType.Int64).unsqueeze(0),
            ["i32"] = torch.tensor(new[] { int.MinValue, -1, 0, 1, int.MaxValue }),
            ["i16"] = torch.tensor(new short[] { -32768, 5, 32767 }),
            ["i8"] = torch.tensor(new sbyte[] { -128, 0, 127 }),
            ["u8"] = torch.tensor(new byte[] { 0, 1, 255 }),
            ["bool"] = torch.tensor(new[] { true, false, true, true }),
            ["scalar.alpha"] = torch.tensor(4.0f),
            ["empty"] = torch.zeros(new long[] { 0, 3 }),
        };
    }

    [Fact]
    public void Round_trip_is_bit_exact_with_metadata_and_zero_dim_tensors()
    {
        using var dir = new TempDir();
        var path = dir.File("sample.safetensors");
        var tensors = SampleTensors();
        var metadata = new Dictionary<string, string>
        {
            ["ss_network_dim"] = "16",
            ["ss_tag_frequency"] = "{\"img\": {\"1girl\": 3, \"<b>\": 1}}",
            ["title"] = "ünïcode — 東京",
        };
        SafeTensorsWriter.Write(path, tensors, metadata);

        using var file = SafeTensorsFile.Open(path);
        Assert.Equal(metadata, file.Metadata);
        Assert.Equal(tensors.Keys.OrderBy(k => k, StringComparer.Ordinal), file.Names);
        Assert.Equal(0, file.HeaderLength % 8);
        foreach (var (name, expected) in tensors)
        {
            Assert.True(file.Contains(name));
            using var loaded = file.Load(name);
            Assert.Equal(expected.dtype, loaded.dtype);
            Assert.Equal(expected.shape, loaded.shape);
            Assert.Equal(expected.contiguous().bytes.ToArray(), loaded.bytes.ToArray());
            Assert.Equal(expected.contiguous().bytes.ToArray(), file.GetRawBytes(name).ToArray());
        }
        Assert.Empty(file.Entries["scalar.alpha"].Shape);
        Assert.Equal(4.0f, file.Load("scalar.alpha").item<float>());
        Assert.False(file.Contains("missing"));
        Assert.Throws<KeyNotFoundException>(() => file.Load("missing"));
    }

    [Fact]
    public void Tensors_are_laid_out_sorted_by_name_and_contiguous()
    {
        using var dir = new TempDir();
        var path = dir.File("order.safetensors");
        SafeTensorsWriter.Write(path, new Dictionary<string, Tensor>
        {
            ["b"] = torch.ones(3),
            ["a"] = torch.ones(2, 2).t(),
            ["c"] = torch.ones(1, ScalarType.Float16),
        }, null);
        using var file = SafeTensorsFile.Open(path);
        Assert.Equal(new[] { "a", "b", "c" }, file.Header.Entries.Select(e => e.Name));
        Assert.Equal((0L, 16L), (file.Entries["a"].Begin, file.Entries["a"].End));
        Assert.Equal((16L, 28L), (file.Entries["b"].Begin, file.Entries["b"].End));
        Assert.Equal((28L, 30L), (file.Entries["c"].Begin, file.Entries["c"].End));
        Assert.Empty(file.Metadata);
        var header = Encoding.UTF8.GetString(File.ReadAllBytes(path), 8, (int)file.HeaderLength);
        Assert.DoesNotContain("__metadata__", header);
        Assert.EndsWith("}", header.TrimEnd(' '));
    }

    [Fact]
    public void Load_converts_to_the_requested_dtype()
    {
        using var dir = new TempDir();
        var path = dir.File("convert.safetensors");
        var half = torch.randn(new long[] { 8, 8 }, generator: new Generator(3)).to_type(ScalarType.Float16);
        SafeTensorsWriter.Write(path, new Dictionary<string, Tensor> { ["w"] = half }, null);
        using var file = SafeTensorsFile.Open(path);
        using var asFloat = file.Load("w", ScalarType.Float32);
        Assert.Equal(ScalarType.Float32, asFloat.dtype);
        Assert.Equal(half.to_type(ScalarType.Float32).bytes.ToArray(), asFloat.bytes.ToArray());
        using var asBf16 = file.Load("w", ScalarType.BFloat16);
        Assert.Equal(half.to_type(ScalarType.BFloat16).bytes.ToArray(), asBf16.bytes.ToArray());
    }

    [Fact]
    public void Half_and_bfloat16_widen_to_float32_exactly_including_special_values()
    {
        using var dir = new TempDir();
        var path = dir.File("special.safetensors");
        var values = torch.tensor(new[] { 0f, -0f, 1f, -2.5f, 65504f, 6e-8f, 1e-5f, float.PositiveInfinity, float.NegativeInfinity, float.NaN, 3.14159f });
        var half = values.to_type(ScalarType.Float16);
        var bf16 = (values * 1e30f).to_type(ScalarType.BFloat16);
        SafeTensorsWriter.Write(path, new Dictionary<string, Tensor> { ["h"] = half, ["b"] = bf16 }, null);
        using var file = SafeTensorsFile.Open(path);
        foreach (var (name, stored) in new[] { ("h", half), ("b", bf16) })
        {
            // NaN payloads may differ between converters; every other value must match libtorch bit for bit.
            var expected = stored.to_type(ScalarType.Float32).data<float>().ToArray();
            var actual = file.Load(name, ScalarType.Float32).data<float>().ToArray();
            Assert.Equal(expected.Select(float.IsNaN), actual.Select(float.IsNaN));
            Assert.Equal(expected.Where(v => !float.IsNaN(v)).Select(BitConverter.SingleToInt32Bits), actual.Where(v => !float.IsNaN(v)).Select(BitConverter.SingleToInt32Bits));
        }
    }

    [Fact]
    public void DataSha256_hashes_only_the_data_region()
    {
        using var dir = new TempDir();
        var a = dir.File("a.safetensors");
        var b = dir.File("b.safetensors");
        var tensors = new Dictionary<string, Tensor> { ["w"] = torch.arange(0, 10, ScalarType.Float32) };
        SafeTensorsWriter.Write(a, tensors, new Dictionary<string, string> { ["ss_output_name"] = "one" });
        SafeTensorsWriter.Write(b, tensors, new Dictionary<string, string> { ["ss_output_name"] = "a much longer name" });

        var bytes = File.ReadAllBytes(a);
        var headerLength = (int)BitConverter.ToUInt64(bytes, 0);
        var expected = Convert.ToHexStringLower(SHA256.HashData(bytes.AsSpan(8 + headerLength)));
        Assert.Equal(expected, SafeTensorsFile.DataSha256(a));
        Assert.Equal(expected, SafeTensorsFile.DataSha256(b));
        Assert.NotEqual(File.ReadAllBytes(a).Length, File.ReadAllBytes(b).Length);
    }

    [Fact]
    public void Writer_rejects_reserved_and_duplicate_names()
    {
        using var dir = new TempDir();
        var path = dir.File("bad.safetensors");
        Assert.Throws<ArgumentException>(() => SafeTensorsWriter.Write(path, new Dictionary<string, Tensor> { ["__metadata__"] = torch.ones(1) }, null));
        Assert.Throws<ArgumentException>(() => SafeTensorsWriter.Write(path,
            new[] { KeyValuePair.Create("x", torch.ones(1)), KeyValuePair.Create("x", torch.ones(1)) }, null));
        Assert.False(File.Exists(path));
    }
}
