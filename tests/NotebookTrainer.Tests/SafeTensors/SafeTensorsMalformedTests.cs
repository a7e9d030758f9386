using System.Text;
using NotebookTrainer.SafeTensors;
using TorchSharp;
using static TorchSharp.torch;

namespace NotebookTrainer.Tests.SafeTensors;

public class SafeTensorsMalformedTests
{
    static byte[] Build(string header, int dataBytes, ulong? declaredLength = null)
    {
        var json = Encoding.UTF8.GetBytes(header);
        var bytes = new byte[8 + json.Length + dataBytes];
        BitConverter.TryWriteBytes(bytes.AsSpan(0, 8), declaredLength ?? (ulong)json.Length);
        json.CopyTo(bytes, 8);
        return bytes;
    }

    static SafeTensorsFormatException Rejects(byte[] content, string expectedProblem)
    {
        using var dir = new TempDir();
        var path = dir.File("broken.safetensors");
        File.WriteAllBytes(path, content);
        var e = Assert.Throws<SafeTensorsFormatException>(() => SafeTensorsFile.Open(path).Dispose());
        Assert.Contains(path, e.Message);
        Assert.Contains(expectedProblem, e.Problem);
        Assert.Throws<SafeTensorsFormatException>(() => SafeTensorsFile.DataSha256(path));
        return e;
    }

    [Theory]
    [InlineData(0)]
    [InlineData(5)]
    public void File_shorter_than_the_length_field(int size) => Rejects(new byte[size], "shorter than the 8-byte");

    [Fact]
    public void Header_length_past_end_of_file() =>
        Rejects(Build("{}", 0, declaredLength: 4096), "runs past the end of the file");

    [Fact]
    public void Absurd_header_length() =>
        Rejects(Build("{}", 0, declaredLength: ulong.MaxValue - 3), "larger than the 16 MiB (NTRAIN_MAX_SAFE_TENSORS_HEADER_BYTES) limit");

    [Fact]
    public void Header_that_is_not_json() =>
        Rejects(Build("{\"a\": {\"dtype\": \"F32\", ", 0), "not valid JSON");

    [Fact]
    public void Header_that_is_not_an_object() =>
        Rejects(Build("[1, 2, 3]", 0), "does not start with a JSON object");

    [Fact]
    public void Unknown_dtype() =>
        Rejects(Build("""{"w": {"dtype": "F12", "shape": [1], "data_offsets": [0, 4]}}""", 4), "unknown dtype 'F12'");

    [Fact]
    public void Offsets_past_the_data_region() =>
        Rejects(Build("""{"w": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]}}""", 8), "run past the data region");

    [Fact]
    public void Offsets_end_before_begin() =>
        Rejects(Build("""{"w": {"dtype": "F32", "shape": [0], "data_offsets": [8, 4]}}""", 8), "is before begin");

    [Fact]
    public void Overlapping_tensors() =>
        Rejects(Build("""{"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}, "b": {"dtype": "F32", "shape": [2], "data_offsets": [4, 12]}}""", 12), "overlaps tensor 'a'");

    [Fact]
    public void Gap_between_tensors() =>
        Rejects(Build("""{"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}, "b": {"dtype": "F32", "shape": [1], "data_offsets": [8, 12]}}""", 12), "belong to no tensor");

    [Fact]
    public void Trailing_bytes_after_the_last_tensor() =>
        Rejects(Build("""{"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}}""", 12), "trailing bytes belong to no tensor");

    [Fact]
    public void Shape_and_span_disagree() =>
        Rejects(Build("""{"w": {"dtype": "F16", "shape": [3, 2], "data_offsets": [0, 8]}}""", 8), "is 12 bytes but data_offsets span 8");

    [Fact]
    public void Negative_dimension() =>
        Rejects(Build("""{"w": {"dtype": "F32", "shape": [-1, 2], "data_offsets": [0, 8]}}""", 8), "shape entry 0 is negative");

    [Fact]
    public void Overflowing_shape() =>
        Rejects(Build("""{"w": {"dtype": "F32", "shape": [9223372036854775807, 4], "data_offsets": [0, 8]}}""", 8), "is too large");

    [Fact]
    public void Duplicate_tensor_names() =>
        Rejects(Build("""{"w": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}, "w": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]}}""", 8), "appears twice");

    [Fact]
    public void Missing_data_offsets() =>
        Rejects(Build("""{"w": {"dtype": "F32", "shape": [1]}}""", 4), "'data_offsets' must be");

    [Fact]
    public void Non_string_metadata() =>
        Rejects(Build("""{"__metadata__": {"ss_network_dim": 16}}""", 0), "metadata 'ss_network_dim' must be a string");

    [Fact]
    public void Truncated_download_of_a_real_file()
    {
        using var dir = new TempDir();
        var path = dir.File("good.safetensors");
        SafeTensorsWriter.Write(path, new Dictionary<string, Tensor> { ["a"] = torch.ones(64), ["b"] = torch.ones(64) }, null);
        var bytes = File.ReadAllBytes(path);
        Rejects(bytes[..^100], "truncated file?");
        Rejects(bytes[..40], "runs past the end of the file");
    }

    [Fact]
    public void Missing_file_is_a_clear_error()
    {
        var e = Assert.Throws<FileNotFoundException>(() => SafeTensorsFile.Open("/nonexistent/model.safetensors"));
        Assert.Contains("/nonexistent/model.safetensors", e.Message);
    }
}
