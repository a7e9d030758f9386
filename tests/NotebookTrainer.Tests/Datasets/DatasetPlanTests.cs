using NotebookTrainer.Datasets;
using NotebookTrainer.Datasets.Config;

namespace NotebookTrainer.Tests.Datasets;

public sealed class DatasetPlanTests : TempDir
{
    DatasetConfig Config(string toml)
    {
        var path = Path.Combine(Root, "dataset.toml");
        File.WriteAllText(path, toml);
        return DatasetConfig.Load(path);
    }

    void Images(string folder, params (string Name, int W, int H)[] images)
    {
        foreach (var (name, w, h) in images)
        {
            Write(Path.Combine(folder, name + ".png"), TestImages.Png(w, h));
            WriteText(Path.Combine(folder, name + ".txt"), $"sks, {name}");
        }
    }

    [Fact]
    public void Options_the_trainer_does_not_apply_are_refused_by_name_not_silently_dropped()
    {
        Images("train", ("a", 512, 512));
        var plan = DatasetPlan.Build(Config("""
            [general]
            caption_extension = '.txt'
            [[datasets]]
            resolution = 512
            validation_split = 1.0
              [[datasets.subsets]]
              image_dir = 'train'
              alpha_mask = true
              face_crop_aug_range = [2.0, 4.0]
            """));
        var errors = plan.Problems.Where(p => p.IsError).Select(p => p.ToString()).ToList();
        Assert.Contains(errors, w => w.Contains("validation_split 1 of dataset 0 is out of range"));   // implemented, but 1.0 leaves nothing to train
        Assert.DoesNotContain(errors, w => w.Contains("alpha_mask"));   // implemented: the alpha channel masks the loss
        Assert.Contains(errors, w => w.Contains("face_crop_aug_range is not supported"));
    }

    [Fact]
    public void Batches_count_repeats_per_bucket_with_ceil_and_steps_equal_batches()
    {
        Images("train", ("a", 512, 512), ("b", 512, 512), ("c", 1024, 768));
        var plan = DatasetPlan.Build(Config("""
            [general]
            caption_extension = '.txt'
            [[datasets]]
            resolution = 512
            batch_size = 4
            enable_bucket = true
              [[datasets.subsets]]
              image_dir = 'train'
              num_repeats = 3
            """));

        Assert.Equal(9, plan.NumTrainImages);
        Assert.Equal([((512, 512), 6, 2, 2), ((576, 448), 3, 1, 1)], plan.Buckets.Select(b => (b.Resolution, b.Count, b.Images, b.Batches)));
        Assert.Equal(3, plan.BatchesPerEpoch);
        var batches = plan.BatchesForEpoch(1);
        Assert.Equal(3, batches.Count);
        Assert.Equal([2, 3, 4], batches.Select(b => b.Samples.Count).Order());
        Assert.All(batches, b => Assert.All(b.Samples, s => Assert.Equal(b.Resolution == (576, 448) ? (597, 448) : (512, 512), s.ResizedSize)));
        Assert.Equal(9, batches.Sum(b => b.Samples.Count));
        Assert.Equal(3, batches.SelectMany(b => b.Samples).Count(s => s.ImagePath.EndsWith("a.png")));
        Assert.All(batches.SelectMany(b => b.Samples), s => Assert.StartsWith("sks, ", s.Caption));
    }

    [Fact]
    public void Epoch_batches_are_reproducible_and_differ_between_epochs()
    {
        Images("train", Enumerable.Range(0, 12).Select(i => ($"i{i:00}", 512, 512)).ToArray());
        var config = Config("[[datasets]]\nresolution = 512\nbatch_size = 2\n[[datasets.subsets]]\nimage_dir = 'train'\ncaption_extension = '.txt'\nnum_repeats = 2\n");
        var plan = DatasetPlan.Build(config, new DatasetPlanOptions { Seed = 5 });
        var again = DatasetPlan.Build(config, new DatasetPlanOptions { Seed = 5 });

        static string Order(IReadOnlyList<TrainingBatch> batches) => string.Join("|", batches.Select(b => string.Join(",", b.Samples.Select(s => Path.GetFileName(s.ImagePath)))));
        Assert.Equal(Order(plan.BatchesForEpoch(1)), Order(again.BatchesForEpoch(1)));
        Assert.NotEqual(Order(plan.BatchesForEpoch(1)), Order(plan.BatchesForEpoch(2)));
        Assert.Equal(
            plan.BatchesForEpoch(1).SelectMany(b => b.Samples).Select(s => s.ImagePath).Order(),
            plan.BatchesForEpoch(2).SelectMany(b => b.Samples).Select(s => s.ImagePath).Order());
    }

    [Fact]
    public void Reg_images_are_balanced_to_the_train_count_round_robin_with_prior_loss_weight()
    {
        Images("train", ("t1", 512, 512), ("t2", 512, 512), ("t3", 512, 512), ("t4", 512, 512), ("t5", 512, 512));
        Images("reg", ("r1", 512, 512), ("r2", 512, 512));
        var plan = DatasetPlan.Build(Config("""
            [[datasets]]
            resolution = 512
            [[datasets.subsets]]
            image_dir = 'train'
            caption_extension = '.txt'
            num_repeats = 2
            [[datasets.subsets]]
            image_dir = 'reg'
            is_reg = true
            caption_extension = '.txt'
            num_repeats = 1
            """), new DatasetPlanOptions { PriorLossWeight = 0.5f });

        // train 5×2 = 10; reg: first pass 1+1 = 2, then +1 round-robin: r1 5, r2 5.
        Assert.Equal(10, plan.NumTrainImages);
        Assert.Equal(10, plan.NumRegImages);
        Assert.Equal([5, 5], plan.Images.Where(i => i.IsReg).Select(i => i.Repeats));
        var samples = plan.BatchesForEpoch(1).SelectMany(b => b.Samples).ToList();
        Assert.All(samples.Where(s => s.IsReg), s => Assert.Equal(0.5f, s.LossWeight));
        Assert.All(samples.Where(s => !s.IsReg), s => Assert.Equal(1.0f, s.LossWeight));
        Assert.Equal(20, plan.BatchesPerEpoch);
    }

    [Fact]
    public void Surplus_reg_images_are_left_unused_like_kohya()
    {
        Images("train", ("t1", 512, 512));
        Images("reg", ("r1", 512, 512), ("r2", 512, 512), ("r3", 512, 512));
        var plan = DatasetPlan.Build(Config("""
            [[datasets]]
            resolution = 512
            [[datasets.subsets]]
            image_dir = 'train'
            caption_extension = '.txt'
            num_repeats = 2
            [[datasets.subsets]]
            image_dir = 'reg'
            is_reg = true
            caption_extension = '.txt'
            num_repeats = 1
            """));
        Assert.Equal([1, 1, 0], plan.Images.Where(i => i.IsReg).Select(i => i.Repeats));
        Assert.Equal(2, plan.NumRegImages);
        Assert.Contains(plan.Problems, p => p.Message.Contains("1 of 3 regularisation images are not used"));
    }

    [Fact]
    public void Bad_files_are_reported_and_the_rest_still_loads()
    {
        Images("train", ("good", 640, 384));
        Write("train/zero.png", []);
        var png = TestImages.Png(300, 200);
        Write("train/cut.png", png[..(png.Length / 3)]);
        Write("train/bomb.png", TestImages.PngHeaderOnly(30000, 30000));
        Write("train/renamed.jpg", TestImages.Png(512, 512));
        Write("train/nocap.png", TestImages.Png(512, 512));
        Write("train/dup.png", TestImages.Png(512, 512));
        Write("train/dup.jpg", TestImages.Jpeg(512, 512));
        WriteText("train/dup.txt", "dup caption");
        Write("train/latin.png", TestImages.Png(512, 512));
        Write("train/latin.txt", [0x63, 0x61, 0x66, 0xE9]);

        var plan = DatasetPlan.Build(Config("[[datasets]]\nresolution = 512\nenable_bucket = true\n[[datasets.subsets]]\nimage_dir = 'train'\ncaption_extension = '.txt'\n"));
        var byName = plan.Images.ToDictionary(i => Path.GetFileName(i.Path));

        Assert.True(byName["good.png"].IsUsable);
        Assert.True(byName["renamed.jpg"].IsUsable);
        Assert.True(byName["nocap.png"].IsUsable);
        Assert.Equal("", byName["nocap.png"].Caption);
        Assert.True(byName["dup.jpg"].IsUsable);
        foreach (var bad in new[] { "zero.png", "cut.png", "bomb.png", "dup.png", "latin.png" })
            Assert.False(byName[bad].IsUsable, bad);
        Assert.Contains(byName["dup.png"].Problems, p => p.Message.Contains("duplicate file name stem"));
        Assert.Equal(4, plan.NumTrainImages);
    }

    [Fact]
    public void Fine_tune_metadata_gives_caption_plus_tags_and_skips_missing_images()
    {
        Write("ft/one.png", TestImages.Png(512, 768));
        Write("ft/two.jpg", TestImages.Jpeg(768, 512));
        WriteText("ft/meta.json", """
            {
              "one.png": { "caption": "a red circle", "tags": "circle, red" },
              "two": { "tags": "square" },
              "missing.png": { "caption": "gone" }
            }
            """);
        var plan = DatasetPlan.Build(Config("[[datasets]]\nresolution = 512\nenable_bucket = true\n[[datasets.subsets]]\nimage_dir = 'ft'\nmetadata_file = 'ft/meta.json'\n"));

        Assert.True(plan.Config.Datasets[0].IsFineTune);
        Assert.Equal(["a red circle, circle, red", "square"], plan.Images.Select(i => i.Caption));
        Assert.Equal([(384, 640), (640, 384)], plan.Images.Select(i => i.Bucket!.Value.Bucket));
        Assert.Contains(plan.Problems, p => p.Message.Contains("'missing.png'"));
    }

    [Fact]
    public void Missing_image_dir_is_a_skipped_subset_with_its_key_path()
    {
        var plan = DatasetPlan.Build(Config("[[datasets]]\nresolution = 512\n[[datasets.subsets]]\nimage_dir = '/does/not/exist'\n"));
        Assert.Contains(plan.Problems, p => p.Key == "datasets[0].subsets[0].image_dir" && p.Message.Contains("does not exist"));
        Assert.Contains(plan.Problems, p => p.IsError && p.Message.Contains("no usable training images"));
    }

    [Fact]
    public void Skip_image_resolution_leaves_small_images_out()
    {
        Images("pics", ("small", 512, 512), ("large", 1024, 1024));
        var plan = DatasetPlan.Build(Config("[general]\ncaption_extension='.txt'\n[[datasets]]\nresolution = 1024\nskip_image_resolution = 768\n[[datasets.subsets]]\nimage_dir = 'pics'\n"));
        Assert.Equal(["large.png"], plan.Images.Where(i => i.IsUsable).Select(i => Path.GetFileName(i.Path)));
    }
}
