using System.IO.Compression;
using System.Runtime.CompilerServices;
using NotebookTrainer.Checkpoints;
using NotebookTrainer.Tests.SafeTensors;
using TorchSharp;
using static TorchSharp.torch;

namespace NotebookTrainer.Tests.Checkpoints;

/// <summary>Fixtures come from Fixtures/make_pickle_fixtures.py (CPython's pickler, torch.save's zip layout).</summary>
public class PickleCheckpointTests
{
    static string Fixture(string name, [CallerFilePath] string here = "") => Path.Combine(Path.GetDirectoryName(here)!, "Fixtures", name);

    static float[] Floats(Tensor t) => t.to_type(ScalarType.Float32).data<float>().ToArray();

    [Fact]
    public void Lightning_checkpoint_tensors_are_rebuilt_from_storages()
    {
        using var file = PickleCheckpoint.Open(Fixture("lightning_state_dict.ckpt"));
        Assert.Equal(7, file.Names.Count);
        Assert.Equal(new long[] { 3, 2 }, file.Shape("model.w_t"));
        Assert.Equal("F16", file.DType("model.half"));
        Assert.Equal("I64", file.DType("cond_stage_model.transformer.text_model.embeddings.position_ids"));

        Assert.Equal(new float[] { 0, 1, 2, 3, 4, 5 }, Floats(file.Load("model.w")));
        Assert.Equal(new float[] { 0, 3, 1, 4, 2, 5 }, Floats(file.Load("model.w_t")));
        using var half = file.Load("model.half");
        Assert.Equal(ScalarType.Float16, half.dtype);
        Assert.Equal(new float[] { 0.5f, -1, 2, 4 }, Floats(half));
        Assert.Equal(ScalarType.Float32, file.Load("model.half", ScalarType.Float32).dtype);
        Assert.Equal(Enumerable.Range(0, 77).Select(i => (long)i), file.Load("cond_stage_model.transformer.text_model.embeddings.position_ids").data<long>().ToArray());
        Assert.Equal(new float[] { 10, 11 }, Floats(file.Load("model.head")));
        Assert.Equal(new float[] { 12, 13, 14 }, Floats(file.Load("model.tail")));
        using var scalar = file.Load("model.scalar");
        Assert.Empty(scalar.shape);
        Assert.Equal(14f, scalar.item<float>());
    }

    [Fact]
    public void Checkpoint_loader_routes_pickles_through_the_restricted_reader()
    {
        using (var analysis = CheckpointLoader.Analyze(Fixture("lightning_state_dict.ckpt")))
        {
            Assert.Equal(CheckpointFormat.Pickle, analysis.Format);
            Assert.False(analysis.Detection.Supported);
        }
        var e = Assert.Throws<CheckpointFormatException>(() => CheckpointLoader.Load(Fixture("flat_lora.pt")));
        Assert.Contains("LoRA", e.Message);
    }

    [Fact]
    public void A_pickle_renamed_to_safetensors_is_still_read_as_a_pickle()
    {
        using var dir = new TempDir();
        var renamed = dir.File("renamed.safetensors");
        File.Copy(Fixture("lightning_state_dict.ckpt"), renamed);
        using var analysis = CheckpointLoader.Analyze(renamed);
        Assert.Equal(CheckpointFormat.Pickle, analysis.Format);
        Assert.Equal(7, analysis.Sources[0].Names.Count);
    }

    [Fact]
    public void A_pickle_that_calls_os_system_is_refused_and_nothing_runs()
    {
        var marker = Path.Combine(Environment.CurrentDirectory, "pwned-by-pickle");
        var e = Assert.Throws<CheckpointFormatException>(() => PickleCheckpoint.Open(Fixture("malicious.ckpt")));
        Assert.Contains("system", e.Message);
        Assert.Contains("Nothing was executed", e.Message);
        Assert.False(File.Exists(marker));
    }

    [Fact]
    public void Legacy_pickles_are_refused_with_a_conversion_hint()
    {
        var e = Assert.Throws<CheckpointFormatException>(() => CheckpointLoader.Load(Fixture("legacy.ckpt")));
        Assert.Contains("legacy torch.save format", e.Message);
        Assert.Contains("safetensors", e.Message);
    }

    [Fact]
    public void Truncated_zip_is_a_format_error()
    {
        using var dir = new TempDir();
        var bytes = File.ReadAllBytes(Fixture("lightning_state_dict.ckpt"));
        var path = dir.File("cut.ckpt");
        File.WriteAllBytes(path, bytes[..(bytes.Length - 300)]);
        var e = Assert.Throws<CheckpointFormatException>(() => PickleCheckpoint.Open(path));
        Assert.Contains(path, e.Message);
    }

    [Fact]
    public void Mutated_data_pkl_only_ever_raises_CheckpointFormatException()
    {
        using var dir = new TempDir();
        byte[] pickle;
        var storages = new Dictionary<string, byte[]>();
        using (var zip = ZipFile.OpenRead(Fixture("lightning_state_dict.ckpt")))
        {
            foreach (var entry in zip.Entries)
            {
                using var stream = entry.Open();
                using var copy = new MemoryStream();
                stream.CopyTo(copy);
                storages[entry.FullName] = copy.ToArray();
            }
            pickle = storages["archive/data.pkl"];
        }
        var random = new Random(1123);
        var path = dir.File("mutant.ckpt");
        var rejected = 0;
        for (var i = 0; i < 600; i++)
        {
            var mutant = (byte[])pickle.Clone();
            for (var m = 0; m < 1 + random.Next(3); m++) mutant[random.Next(mutant.Length)] = (byte)random.Next(256);
            if (random.Next(4) == 0) mutant = mutant[..random.Next(mutant.Length)];
            using (var zip = ZipFile.Open(path, ZipArchiveMode.Create))
                foreach (var (name, content) in storages)
                {
                    using var stream = zip.CreateEntry(name, CompressionLevel.NoCompression).Open();
                    stream.Write(name == "archive/data.pkl" ? mutant : content);
                }
            try
            {
                using var file = PickleCheckpoint.Open(path);
                foreach (var name in file.Names) file.Load(name).Dispose();
            }
            catch (CheckpointFormatException)
            {
                rejected++;
            }
            File.Delete(path);
        }
        Assert.True(rejected > 300, $"only {rejected} of 600 rejected");
    }
}
