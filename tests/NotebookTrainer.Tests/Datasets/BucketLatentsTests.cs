using System.Text.Json.Nodes;
using NotebookTrainer.Datasets;
using NotebookTrainer.Datasets.Config;
using NotebookTrainer.Datasets.FineTune;
using NotebookTrainer.Images;
using NotebookTrainer.ModelConfigs;
using NotebookTrainer.Models.Vae;
using NotebookTrainer.Npz;
using NotebookTrainer.Tests.Npz;
using NotebookTrainer.Tests.Training;
using NotebookTrainer.Training;
using static TorchSharp.torch;

namespace NotebookTrainer.Tests.Datasets;

[Collection(TorchRandom.Collection)]
public sealed class BucketLatentsTests : TempDir
{
    readonly AutoencoderKL vae;

    public BucketLatentsTests()
    {
        manual_seed(3);
        vae = new AutoencoderKL(AutoencoderKLConfig.Tiny);
    }

    string Images => Path.Combine(Root, "img");

    /// <summary>Buckets of area 128² with sides 64–256 in steps of 64: (64,192) (64,256) (128,128) (192,64) (256,64).</summary>
    PrepareBucketsOptions Options(string outJson = "out.json") => new()
    {
        TrainDataDir = Images,
        InJson = Path.Combine(Root, "in.json"),
        OutJson = Path.Combine(Root, outJson),
        MaxResolution = (128, 128),
        MinBucketReso = 64,
        MaxBucketReso = 256,
        BucketResoSteps = 64,
        FlipAug = true,
    };

    void WriteImages(params (int W, int H)[] sizes)
    {
        foreach (var (w, h) in sizes) Write($"img/p{w}x{h}.png", TestImages.Png(w, h));
        WriteText("in.json", """{ "p300x100": { "caption": "wide", "tags": "red_circle" } }""");
    }

    [Fact]
    public void Buckets_train_resolution_and_npz_match_sd_scripts()
    {
        WriteImages((300, 100), (100, 100), (200, 100), (90, 250), (128, 128));
        var report = BucketLatents.Prepare(Options(), vae);

        // Worked by hand from sd-scripts' BucketManager.select_bucket:
        var expected = new Dictionary<string, ((int, int) Bucket, (int, int) Resized)>
        {
            ["p100x100"] = ((128, 128), (128, 128)),   // upscaled
            ["p128x128"] = ((128, 128), (128, 128)),   // exact bucket
            ["p200x100"] = ((128, 128), (256, 128)),   // aspect 2 is as far from 1 as from 3: numpy's argmin takes the first, (128,128)
            ["p300x100"] = ((192, 64), (192, 64)),     // aspect 3 exactly: width-bound scale 0.64
            ["p90x250"] = ((64, 192), (69, 192)),      // aspect 0.36, nearest 64/192; height-bound scale 0.768
        };
        // in.json lists one image; the others are added, each with a warning.
        Assert.Equal(4, report.Problems.Count(p => !p.IsError && p.Message.EndsWith("is added without caption or tags.", StringComparison.Ordinal)));
        Assert.Equal(4, report.Problems.Count);
        Assert.Equal(expected.Keys, report.Images.Select(i => i.Key));
        foreach (var image in report.Images)
        {
            Assert.Equal(expected[image.Key], (image.Assignment.Bucket, image.Assignment.Resized));
            Assert.False(image.Reused);
        }
        Assert.Equal([((64, 192), 1), ((128, 128), 3), ((192, 64), 1)], report.Buckets);

        var json = JsonNode.Parse(File.ReadAllText(Path.Combine(Root, "out.json")))!.AsObject();
        Assert.Equal(["p300x100", "p100x100", "p128x128", "p200x100", "p90x250"], json.Select(p => p.Key));   // in.json's entries first
        Assert.Equal("wide", (string?)json["p300x100"]!["caption"]);
        foreach (var (key, (bucket, _)) in expected)
            Assert.Equal([bucket.Item1, bucket.Item2], json[key]!["train_resolution"]!.AsArray().Select(v => (int)v!));

        using var npz = NpzFile.Open(Path.Combine(Images, "p90x250.npz"));
        Assert.Equal(["crop_ltrb", "latents", "latents_flipped", "original_size"], npz.Keys.Order(StringComparer.Ordinal));
        AssertHeader(npz, "latents", NpyDType.Float32, 4, 96, 32);   // the tiny VAE downsamples by 2
        AssertHeader(npz, "latents_flipped", NpyDType.Float32, 4, 96, 32);
        AssertHeader(npz, "original_size", NpyDType.Int64, 2);
        AssertHeader(npz, "crop_ltrb", NpyDType.Float64, 4);
        Assert.Equal([90.0, 250], npz.Read("original_size").ToFloat64());
        // get_crop_ltrb: the bucket (0.333) is narrower than the image (0.36), so the width fits: 64 × 250/90 tall.
        var height = 64 / (90.0 / 250);
        Assert.Equal([0, Math.Floor((192 - height) / 2), 64, 7 + height], npz.Read("crop_ltrb").ToFloat64());
    }

    static void AssertHeader(NpzFile npz, string key, NpyDType dtype, params long[] shape)
    {
        var header = npz.Header(key);
        Assert.Equal(dtype, header.DType);
        Assert.Equal(shape, header.Shape);
    }

    [Fact]
    public void Latents_are_the_vae_posterior_samples_of_the_centre_crop_and_its_mirror()
    {
        WriteImages((300, 100), (200, 100));
        BucketLatents.Prepare(Options() with { Seed = 11 }, vae);

        // batch_size 1: each image is encoded as it comes, its mirror right after, drawing from one generator.
        using var generator = new Generator(11);
        foreach (var (name, bucket, resized) in new[] { ("p200x100", (128, 128), (256, 128)), ("p300x100", (192, 64), (192, 64)) })
        {
            var path = Path.Combine(Images, name + ".png");
            var sample = new TrainingSample(path, "", false, 1, false, new SubsetOptions(), (0, 0), resized);
            using var pixels = LatentCache.TrainingPixels(sample, bucket, flip: false, new Random(0)).unsqueeze(0);
            using var posterior = vae.encode(pixels);
            using var expected = posterior.sample(generator).squeeze(0);
            using var mirrored = vae.encode(pixels.flip(3));
            using var expectedFlipped = mirrored.sample(generator).squeeze(0);

            var npz = Path.Combine(Images, name + ".npz");
            using var latents = LatentsNpz.ReadLatents(npz, flipped: false);
            using var flipped = LatentsNpz.ReadLatents(npz, flipped: true);
            Assert.True(latents.allclose(expected, rtol: 1e-5, atol: 1e-5), name);
            Assert.True(flipped.allclose(expectedFlipped, rtol: 1e-5, atol: 1e-5), name + " flipped");
        }
    }

    [Fact]
    public void Images_missing_from_the_metadata_are_added_with_a_hint_at_the_key_style()
    {
        Write("img/a.png", TestImages.Png(64, 64));
        WriteText("in.json", $"{{ {System.Text.Json.JsonSerializer.Serialize(Path.Combine(Images, "b.png"))}: {{ \"caption\": \"b\" }} }}");
        var report = BucketLatents.Prepare(Options() with { FlipAug = false }, vae);
        Assert.Contains("(the metadata is keyed by full paths: add --full-path)", Assert.Single(report.Problems).Message);
        var keyedByPath = WriteText("in2.json", $"{{ {System.Text.Json.JsonSerializer.Serialize(Path.Combine(Images, "a.png"))}: {{ \"caption\": \"a\" }} }}");
        Assert.Empty(BucketLatents.Prepare(Options() with { FlipAug = false, FullPath = true, InJson = keyedByPath }, vae).Problems);
    }

    [Fact]
    public void Skip_existing_keeps_caches_that_fit_and_redoes_those_that_do_not()
    {
        WriteImages((300, 100), (100, 100));
        BucketLatents.Prepare(Options(), vae);
        var npz = Path.Combine(Images, "p100x100.npz");
        var first = File.ReadAllBytes(npz);

        var again = BucketLatents.Prepare(Options() with { SkipExisting = true }, vae);
        Assert.Equal(0, again.Encoded);
        Assert.All(again.Images, i => Assert.True(i.Reused));
        Assert.Equal(first, File.ReadAllBytes(npz));
        Assert.Equal(2, JsonNode.Parse(File.ReadAllText(Path.Combine(Root, "out.json")))!.AsObject().Count(e => e.Value!["train_resolution"] is not null));

        // alpha_mask needs an alpha_mask array: both are encoded again, with one.
        var withMask = BucketLatents.Prepare(Options() with { SkipExisting = true, AlphaMask = true }, vae);
        Assert.Equal(2, withMask.Encoded);
        using (var file = NpzFile.Open(npz))
        {
            Assert.Equal([128L, 128], file.Header("alpha_mask").Shape);
            Assert.All(file.Read("alpha_mask").ToFloat32(), v => Assert.Equal(1f, v));   // an opaque image
        }

        // A larger maximum moves 100x100 to a 256x256 bucket and 300x100 to (384,128): neither cache fits any more.
        var larger = BucketLatents.Prepare(Options() with { SkipExisting = true, AlphaMask = true, MaxResolution = (256, 256), MaxBucketReso = 512 }, vae);
        Assert.Equal(2, larger.Encoded);
        Assert.Equal([((256, 256), 1), ((384, 128), 1)], larger.Buckets);
    }

    [Fact]
    public void No_upscale_buckets_follow_each_image_and_too_small_images_are_left_out()
    {
        WriteImages((300, 100), (100, 100), (40, 40));
        var report = BucketLatents.Prepare(Options() with { BucketNoUpscale = true }, vae);

        // 300x100 is larger than 128²: sqrt(128²·3) = 221.7 wide rounds to 192, and 192/3 = 64 tall (height-first gives the same, so it wins).
        Assert.Equal([("p100x100", (64, 64), (100, 100)), ("p300x100", (192, 64), (192, 64))],
            report.Images.Select(i => (i.Key, i.Assignment.Bucket, i.Assignment.Resized)));
        var small = Assert.Single(report.Problems, p => p.IsError);
        Assert.EndsWith("p40x40.png", small.File);
        Assert.Contains("smaller than one bucket step", small.Message);
        Assert.False(File.Exists(Path.Combine(Images, "p40x40.npz")));
    }

    [Fact]
    public void Unreadable_images_are_left_out_of_metadata_and_caches_and_bad_entries_stop_before_any_work()
    {
        WriteImages((100, 100));
        var good = File.ReadAllBytes(Path.Combine(Images, "p100x100.png"));
        Write("img/cut.png", good[..(good.Length / 2)]);
        Write("img/fake.png", "not an image at all"u8.ToArray());
        var report = BucketLatents.Prepare(Options(), vae);

        Assert.Equal(["p100x100"], report.Images.Select(i => i.Key));
        Assert.Equal(2, report.Problems.Count(p => p.IsError && p.Message.Contains("left out")));
        var json = JsonNode.Parse(File.ReadAllText(Path.Combine(Root, "out.json")))!.AsObject();
        Assert.Null(json["cut"]);
        Assert.Null(json["fake"]);
        Assert.False(File.Exists(Path.Combine(Images, "cut.npz")));

        File.Delete(Path.Combine(Images, "p100x100.npz"));
        WriteText("in.json", """{ "p100x100": "a caption where an object belongs" }""");
        Assert.Contains("'p100x100' is not an object", Assert.Throws<InvalidDataException>(() => BucketLatents.Prepare(Options(), vae)).Message);
        Assert.False(File.Exists(Path.Combine(Images, "p100x100.npz")));
    }

    DatasetPlan Plan(int resolution = 128, bool flipAug = true) => DatasetPlan.Build(DatasetConfig.Parse($"""
        [[datasets]]
        resolution = {resolution}
        enable_bucket = true
        min_bucket_reso = 64
        max_bucket_reso = 256
        bucket_reso_steps = 64
        batch_size = 2
          [[datasets.subsets]]
          image_dir = '{Images}'
          metadata_file = '{Path.Combine(Root, "out.json")}'
          flip_aug = {(flipAug ? "true" : "false")}
        """, Path.Combine(Root, "dataset.toml")));

    [Fact]
    public void A_fine_tune_dataset_trains_on_the_prepared_latents()
    {
        WriteImages((300, 100), (100, 100), (90, 250));
        BucketLatents.Prepare(Options(), vae);

        var plan = Plan();
        Assert.DoesNotContain(plan.Problems, p => p.IsError);
        var json = JsonNode.Parse(File.ReadAllText(Path.Combine(Root, "out.json")))!.AsObject();
        foreach (var image in plan.Images)
        {
            Assert.True(image.IsUsable, image.Path);
            Assert.Equal(Path.ChangeExtension(image.Path, ".npz"), image.LatentsNpz);
            var trainResolution = json[Path.GetFileNameWithoutExtension(image.Path)]!["train_resolution"]!.AsArray().Select(v => (int)v!).ToArray();
            Assert.Equal((trainResolution[0], trainResolution[1]), image.Bucket!.Value.Bucket);
        }
        Assert.Equal("wide, red_circle", plan.Images.Single(i => i.Path.EndsWith("p300x100.png")).Caption);

        using var cache = new LatentCache(vae, LatentCache.ModuleHash(vae), keepInMemory: false, diskDir: null, new Generator(1));
        foreach (var batch in plan.BatchesForEpoch(1))
            foreach (var sample in batch.Samples)
                foreach (var flip in new[] { false, true })
                {
                    using var latents = cache.Get(sample, batch.Resolution, flip);
                    using var stored = LatentsNpz.ReadLatents(sample.LatentsNpz!, flip);
                    Assert.True(latents.eq(stored).all().item<bool>());
                }
        Assert.Equal((0, 6), (cache.Encoded, cache.ReadFromDisk));

        // Another resolution puts the images in other buckets: the caches are not used and the plan says why.
        var other = Plan(resolution: 64);
        Assert.All(other.Images, i => Assert.Null(i.LatentsNpz));
        Assert.Contains(other.Images.SelectMany(i => i.Problems), p => p.Message.StartsWith("cached latents not used: 'latents' is", StringComparison.Ordinal));
    }

    [Fact]
    public void Latents_numpy_wrote_as_sd_scripts_does_are_read_and_a_cache_without_flips_is_not_used_with_flip_aug()
    {
        Write("img/a.png", TestImages.Png(200, 100));
        WriteText("out.json", """{ "a": { "caption": "from sd-scripts" } }""");
        // sd-scripts' save_latents_to_disk: np.savez with float32 latents and np.array of the Python tuples.
        NumpyReference.Run("""
            lat = np.arange(4 * 64 * 64, dtype=np.float32).reshape(4, 64, 64) / 1000
            np.savez(sys.argv[1], latents=lat, original_size=np.array((200, 100)), crop_ltrb=np.array((0, 32.0, 128, 96.0)), latents_flipped=-lat)
            np.savez(sys.argv[2], latents=lat, original_size=np.array((200, 100)), crop_ltrb=np.array((0, 32.0, 128, 96.0)))
            """, Path.Combine(Images, "a.npz"), Path.Combine(Root, "unflipped.npz"));

        var plan = Plan();
        var image = Assert.Single(plan.Images);
        Assert.Equal(Path.Combine(Images, "a.npz"), image.LatentsNpz);
        using var cache = new LatentCache(vae, LatentCache.ModuleHash(vae), keepInMemory: false, diskDir: null, new Generator(1));
        var batch = plan.BatchesForEpoch(1).Single();
        using (var flipped = cache.Get(batch.Samples[0], batch.Resolution, flip: true))
            Assert.Equal(-16.383f, flipped[3, 63, 63].item<float>());   // element 3·64·64 + 63·64 + 63 of -arange / 1000
        Assert.Equal(0, cache.Encoded);

        File.Move(Path.Combine(Root, "unflipped.npz"), Path.Combine(Images, "a.npz"), overwrite: true);
        var withoutFlips = Assert.Single(Plan().Images);
        Assert.Null(withoutFlips.LatentsNpz);
        Assert.Contains(withoutFlips.Problems, p => p.Message.Contains("no 'latents_flipped' array, which flip_aug needs"));
        Assert.Equal(Path.Combine(Images, "a.npz"), Assert.Single(Plan(flipAug: false).Images).LatentsNpz);
    }

    [Fact]
    public void Lora_training_with_cache_latents_reads_the_prepared_npz_instead_of_encoding()
    {
        WriteImages((300, 100), (100, 100));
        using var models = TinyTrainingSetup.Models();
        BucketLatents.Prepare(Options(), models.Vae);
        var log = new List<string>();
        using (var trainer = new Trainer(TinyTrainingSetup.Config(Path.Combine(Root, "run"), "max_train_steps = 1"), Plan(), models, CPU, log.Add))
            trainer.Train();
        Assert.Contains("latents: 0 encoded, 4 read from the disk cache.", log);
    }
}
