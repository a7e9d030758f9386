using System.Text.Json;
using System.Text.Json.Nodes;
using NotebookTrainer.Datasets;
using NotebookTrainer.Models;
using NotebookTrainer.Tests.Npz;
using NotebookTrainer.World;

namespace NotebookTrainer.Tests.Datasets;

/// <summary>kohya's fine-tuning metadata workflow end to end through the real ntrain executable in child processes.</summary>
public sealed class FineTuneCliTests : TempDir
{
    static (int Code, string Out, string Err) Ntrain(params string[] args) => NtrainProcess.Run(args, TimeSpan.FromMinutes(3));

    [Fact]
    public void Metadata_and_npz_built_by_ntrain_read_back_as_a_fine_tune_dataset_and_open_in_numpy()
    {
        var images = SampleDataset.Generate(Root, seed: 4, count: 4);
        var folder = Path.GetDirectoryName(images[0].Path)!;
        foreach (var image in images)
            File.WriteAllText(Path.ChangeExtension(image.Path, ".caption"), $"a cartoon woman drawing a {image.Tags[0].Replace('_', ' ')}\n");
        var model = TinyStableDiffusion.Write(Path.Combine(Root, "model"));
        var meta = Path.Combine(Root, "meta.json");
        var clean = Path.Combine(Root, "meta_clean.json");
        var latents = Path.Combine(Root, "meta_lat.json");

        var captions = Ntrain("metadata", "merge-captions", folder, meta);
        Assert.True(captions.Code == 0, captions.Err);
        Assert.Contains("4 of 4 images merged", captions.Out);
        var tags = Ntrain("metadata", "merge-tags", folder, meta, "--debug");
        Assert.True(tags.Code == 0, tags.Err);
        Assert.Contains("000 sks, ", tags.Out);
        var cleaned = Ntrain("metadata", "clean", meta, clean);
        Assert.True(cleaned.Code == 0, cleaned.Err);
        Assert.Contains("captions in 4", cleaned.Out);
        var prepared = Ntrain("metadata", "prepare-buckets", folder, clean, latents, model,
            "--max-resolution", "128,128", "--min-bucket-reso", "64", "--max-bucket-reso", "256", "--flip-aug", "--batch-size", "2");
        Assert.True(prepared.Code == 0, prepared.Err);
        Assert.Contains("4 images in", prepared.Out);
        Assert.Contains("mean ar error:", prepared.Out);

        var config = Path.Combine(Root, "dataset.toml");
        File.WriteAllText(config, $"""
            [[datasets]]
            resolution = 128
            enable_bucket = true
            min_bucket_reso = 64
            max_bucket_reso = 256
              [[datasets.subsets]]
              image_dir = {JsonSerializer.Serialize(folder)}
              metadata_file = {JsonSerializer.Serialize(latents)}
              flip_aug = true
            """);
        var report = DatasetInspector.Inspect(config);
        var plan = report.Plan!;
        Assert.True(plan.Config.Datasets[0].IsFineTune);
        Assert.Equal(0, report.ErrorCount);
        var metadata = JsonNode.Parse(File.ReadAllText(latents))!.AsObject();
        foreach (var (image, planned) in images.Zip(plan.Images.OrderBy(i => i.Path, StringComparer.Ordinal)))
        {
            Assert.Equal(image.Path, planned.Path);
            Assert.True(planned.IsUsable);
            var entry = metadata[Path.GetFileNameWithoutExtension(image.Path)]!;
            Assert.Equal($"a girl drawing a {image.Tags[0].Replace('_', ' ')}, {SampleDataset.CaptionFor(image.Tags)}", planned.Caption);
            Assert.Equal(entry["train_resolution"]!.AsArray().Select(v => (int)v!), [planned.Bucket!.Value.Bucket.Width, planned.Bucket.Value.Bucket.Height]);
            Assert.Equal(Path.ChangeExtension(image.Path, ".npz"), planned.LatentsNpz);
        }
        using (var inspectJson = JsonDocument.Parse(report.ToJson()))
            Assert.All(inspectJson.RootElement.GetProperty("images").EnumerateArray(), i => Assert.EndsWith(".npz", i.GetProperty("latents_npz").GetString()));

        // Debian's numpy opens every .npz: sd-scripts' keys, dtypes and shapes for the bucket recorded in the metadata.
        var numpy = NumpyReference.Run("""
            import json
            meta = json.load(open(sys.argv[1]))
            for path in sys.argv[2:]:
                d = np.load(path)
                w, h = meta[path.rsplit('/', 1)[1][:-4]]['train_resolution']
                print(sorted(d.files), d['latents'].dtype.str, d['latents'].shape == (4, h // 2, w // 2),
                      d['latents_flipped'].dtype.str, d['latents_flipped'].shape == d['latents'].shape,
                      d['original_size'].dtype.str, d['original_size'].tolist(), d['crop_ltrb'].dtype.str, d['crop_ltrb'].shape)
            """, [latents, .. images.Select(i => Path.ChangeExtension(i.Path, ".npz"))]);
        Assert.Equal(images.Select(i =>
                $"['crop_ltrb', 'latents', 'latents_flipped', 'original_size'] <f4 True <f4 True <i8 [{i.Width}, {i.Height}] <f8 (4,)"),
            numpy.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    [Fact]
    public void Usage_mistakes_and_missing_files_exit_2_with_one_line()
    {
        var missing = Ntrain("metadata", "clean", Path.Combine(Root, "none.json"), Path.Combine(Root, "out.json"));
        Assert.Equal(2, missing.Code);
        Assert.Contains("no metadata file", missing.Err);
        var recursive = Ntrain("metadata", "merge-tags", Root, Path.Combine(Root, "out.json"), "--recursive");
        Assert.Equal(2, recursive.Code);
        Assert.Contains("recursive needs full_path", recursive.Err);
        var resolution = Ntrain("metadata", "prepare-buckets", Root, "in.json", "out.json", "model", "--max-resolution", "512");
        Assert.Equal(2, resolution.Code);
        Assert.Contains("--max-resolution must be 'width,height'", resolution.Err);
        Assert.DoesNotContain("   at ", missing.Err + recursive.Err + resolution.Err);
        Assert.False(File.Exists(Path.Combine(Root, "out.json")));
    }
}
