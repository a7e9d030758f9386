using NotebookTrainer.Configuration;
using NotebookTrainer.Datasets;
using NotebookTrainer.Datasets.Config;

namespace NotebookTrainer.Tests.Datasets;

public sealed class DatasetConfigTests : TempDir
{
    // The shape of the first example in kohya's docs/config_README-en.md (our own names and values): general
    // defaults, a DreamBooth dataset with three subsets (one reg) and a fine-tune dataset, Windows paths in
    // single-quoted literal strings.
    const string KohyaDocsExample = """
        [general]
        shuffle_caption = true
        caption_extension = '.txt'
        keep_tokens = 1

        # DreamBooth-style
        [[datasets]]
        resolution = 512
        batch_size = 4
        keep_tokens = 2

          [[datasets.subsets]]
          image_dir = 'C:\alpha'
          class_tokens = 'alpha cat'

          [[datasets.subsets]]
          image_dir = 'C:\beta'
          class_tokens = 'beta dog'
          keep_tokens = 3

          [[datasets.subsets]]
          is_reg = true
          image_dir = 'C:\regs'
          class_tokens = 'animal'
          keep_tokens = 1

        # fine-tuning
        [[datasets]]
        resolution = [768, 768]
        batch_size = 2

          [[datasets.subsets]]
          image_dir = 'C:\gamma'
          metadata_file = 'C:\gamma\gamma_md.json'
        """;

    // The docs' separator/wildcard example: resolution in [general], options on the dataset level.
    const string KohyaSeparatorExample = """
        [general]
        flip_aug = true
        color_aug = false
        resolution = [1024, 1024]

        [[datasets]]
        batch_size = 6
        enable_bucket = true
        bucket_no_upscale = true
        caption_extension = ".txt"
        keep_tokens_separator= "|||"
        shuffle_caption = true
        caption_tag_dropout_rate = 0.1
        secondary_separator = ";;;" # may also be set per subset
        enable_wildcard = true

          [[datasets.subsets]]
          image_dir = "/data/images"
          num_repeats = 1
          caption_prefix = "1girl, some character, series |||"
          caption_suffix = ", anime screencap ||| masterpiece, rating: general"
        """;

    // The docs' multi-resolution example with skip_image_resolution.
    const string KohyaMultiResolutionExample = """
        [general]
        enable_bucket = true
        bucket_no_upscale = true
        max_bucket_reso = 1536

        [[datasets]]
        resolution = 768
          [[datasets.subsets]]
          image_dir = 'C:\pics'

        [[datasets]]
        resolution = 1024
        skip_image_resolution = 768
          [[datasets.subsets]]
          image_dir = 'C:\pics'
        """;

    static DatasetConfig Parse(string toml, string file = "dataset.toml") => DatasetConfig.Parse(toml, file);

    static ConfigException Fails(string toml, string file = "dataset.toml") =>
        Assert.Throws<ConfigException>(() => DatasetConfig.Parse(toml, file));

    [Fact]
    public void Kohya_docs_example_resolves_values_subset_then_dataset_then_general()
    {
        var config = Parse(KohyaDocsExample);

        Assert.Equal(2, config.Datasets.Count);
        var dreambooth = config.Datasets[0];
        Assert.False(dreambooth.IsFineTune);
        Assert.Equal((512, 512), dreambooth.Resolution);
        Assert.Equal(4, dreambooth.BatchSize);
        Assert.Equal([2, 3, 1], dreambooth.Subsets.Select(s => s.KeepTokens));
        Assert.Equal(@"C:\alpha", dreambooth.Subsets[0].ImageDir);
        Assert.Equal("alpha cat", dreambooth.Subsets[0].ClassTokens);
        Assert.All(dreambooth.Subsets, s => Assert.Equal(".txt", s.CaptionExtension));
        Assert.All(dreambooth.Subsets, s => Assert.True(s.ShuffleCaption));
        Assert.Equal([false, false, true], dreambooth.Subsets.Select(s => s.IsReg));
        Assert.Equal("datasets[0].subsets[2]", dreambooth.Subsets[2].KeyPath);

        var fineTune = config.Datasets[1];
        Assert.True(fineTune.IsFineTune);
        Assert.Equal((768, 768), fineTune.Resolution);
        Assert.Equal(1, fineTune.Subsets[0].KeepTokens);
        Assert.Equal(@"C:\gamma\gamma_md.json", fineTune.Subsets[0].MetadataFile);
        Assert.Empty(config.Warnings);
    }

    [Fact]
    public void Kohya_docs_separator_and_multi_resolution_examples_parse()
    {
        var separators = Parse(KohyaSeparatorExample).Datasets[0];
        Assert.Equal((1024, 1024), separators.Resolution);
        Assert.True(separators.BucketNoUpscale);
        var subset = separators.Subsets[0];
        Assert.Equal("|||", subset.KeepTokensSeparator);
        Assert.Equal(";;;", subset.SecondarySeparator);
        Assert.True(subset.FlipAug);
        Assert.True(subset.EnableWildcard);
        Assert.Equal(0.1, subset.CaptionTagDropoutRate);

        var multi = Parse(KohyaMultiResolutionExample);
        Assert.Equal([(768, 768), (1024, 1024)], multi.Datasets.Select(d => d.Resolution));
        Assert.Null(multi.Datasets[0].SkipImageResolution);
        Assert.Equal((768, 768), multi.Datasets[1].SkipImageResolution);
        Assert.Equal(1536, multi.Datasets[1].MaxBucketReso);
    }

    [Fact]
    public void Defaults_match_kohya()
    {
        var d = Parse("[[datasets]]\nresolution = 512\n[[datasets.subsets]]\nimage_dir = '/x'\n").Datasets[0];
        var s = d.Subsets[0];
        Assert.Equal((1, false, 256, 1024, 64), (d.BatchSize, d.EnableBucket, d.MinBucketReso, d.MaxBucketReso, d.BucketResoSteps));
        Assert.Equal((".caption", ",", 0, 1, 1, 0.0), (s.CaptionExtension, s.CaptionSeparator, s.KeepTokens, s.NumRepeats, s.TokenWarmupMin, s.CaptionDropoutRate));
    }

    [Fact]
    public void Training_arguments_sit_below_the_file_in_the_fallback_chain()
    {
        var args = new DatasetArguments { Resolution = 768, BatchSize = 3, CaptionExtension = ".txt" };
        var config = DatasetConfig.Parse("[general]\nbatch_size = 2\n[[datasets]]\n[[datasets.subsets]]\nimage_dir = '/x'\n", "d.toml", args);
        Assert.Equal((768, 768), config.Datasets[0].Resolution);
        Assert.Equal(2, config.Datasets[0].BatchSize);
        Assert.Equal(".txt", config.Datasets[0].Subsets[0].CaptionExtension);
    }

    [Fact]
    public void Windows_paths_in_single_quotes_load_and_in_double_quotes_get_the_fix()
    {
        var ok = Parse("[[datasets]]\nresolution = 512\n  [[datasets.subsets]]\n  image_dir = 'C:\\Users\\me\\train\\10_x'\n");
        Assert.Equal(@"C:\Users\me\train\10_x", ok.Datasets[0].Subsets[0].ImageDir);

        var error = Fails("[[datasets]]\nresolution = 512\n  [[datasets.subsets]]\n  image_dir = \"C:\\Users\\me\\xdata\"\n");
        var problem = Assert.Single(error.Problems);
        Assert.Equal(4, problem.Line);
        Assert.Contains("single quotes", problem.Message);
        Assert.Contains("dataset.toml:4", problem.ToString());
    }

    [Fact]
    public void Unknown_and_mistyped_keys_name_line_key_path_and_suggestion()
    {
        var error = Fails("""
            [general]
            shuffle_captions = true

            [[datasets]]
            resolution = 512
            batch_size = "4"

              [[datasets.subsets]]
              image_dir = '/x'
              num_repeat = 10
              batch_size = 2
              flip_aug = "true"
            """);
        var byKey = error.Problems.ToDictionary(p => p.Key!);

        Assert.Equal(2, byKey["general.shuffle_captions"].Line);
        Assert.Contains("Did you mean 'shuffle_caption'?", byKey["general.shuffle_captions"].Message);
        Assert.Contains("extra keys not allowed", byKey["general.shuffle_captions"].Message);
        Assert.Equal(6, byKey["datasets[0].batch_size"].Line);
        Assert.Contains("expected an integer", byKey["datasets[0].batch_size"].Message);
        Assert.Contains("Remove the quotes: batch_size = 4", byKey["datasets[0].batch_size"].Message);
        Assert.Equal(10, byKey["datasets[0].subsets[0].num_repeat"].Line);
        Assert.Contains("'num_repeats'", byKey["datasets[0].subsets[0].num_repeat"].Message);
        Assert.Contains("not in a subset", byKey["datasets[0].subsets[0].batch_size"].Message);
        Assert.Contains("expected a boolean", byKey["datasets[0].subsets[0].flip_aug"].Message);
        Assert.Equal(5, error.Problems.Count);
    }

    [Fact]
    public void Command_line_only_keys_are_refused()
    {
        var error = Fails("[general]\nprior_loss_weight = 1.0\n[[datasets]]\nresolution = 512\n[[datasets.subsets]]\nimage_dir = '/x'\n");
        var problem = Assert.Single(error.Problems);
        Assert.Equal("general.prior_loss_weight", problem.Key);
        Assert.Contains("--prior_loss_weight", problem.Message);
    }

    [Fact]
    public void Missing_image_dir_uses_kohyas_wording_plus_the_fix()
    {
        var error = Fails("[[datasets]]\nresolution = 512\n\n[[datasets.subsets]]\nclass_tokens = 'sks'\n");
        var problem = Assert.Single(error.Problems);
        Assert.Equal("datasets[0].subsets[0].image_dir", problem.Key);
        Assert.Equal(4, problem.Line);
        Assert.Contains("required key not provided @ data['datasets'][0]['subsets'][0]['image_dir']", problem.Message);
    }

    [Fact]
    public void Resolution_must_be_a_multiple_of_64_and_not_a_one_element_array()
    {
        var error = Fails("[[datasets]]\nresolution = 500\n[[datasets.subsets]]\nimage_dir = '/x'\n");
        var problem = Assert.Single(error.Problems);
        Assert.Equal(2, problem.Line);
        Assert.Contains("use 448 or 512", problem.Message);

        var array = Fails("[[datasets]]\nresolution = [512]\n[[datasets.subsets]]\nimage_dir = '/x'\n");
        Assert.Contains("Write resolution = 512", Assert.Single(array.Problems).Message);

        var missing = Fails("[[datasets]]\n[[datasets.subsets]]\nimage_dir = '/x'\n");
        Assert.Contains("required key not provided: resolution", Assert.Single(missing.Problems).Message);
    }

    [Fact]
    public void Num_repeats_zero_skips_the_subset_with_a_warning()
    {
        var config = Parse("[[datasets]]\nresolution = 512\n[[datasets.subsets]]\nimage_dir = '/a'\nnum_repeats = 0\n[[datasets.subsets]]\nimage_dir = '/b'\n");
        Assert.Equal(["/b"], config.Datasets[0].Subsets.Select(s => s.ImageDir));
        var warning = Assert.Single(config.Warnings);
        Assert.Equal("datasets[0].subsets[0].num_repeats", warning.Key);
        Assert.Equal(5, warning.Line);
        Assert.Contains("skipped", warning.Message);
    }

    [Fact]
    public void Duplicate_subset_in_one_dataset_is_skipped_but_not_across_datasets()
    {
        var config = Parse("""
            [[datasets]]
            resolution = 512
            [[datasets.subsets]]
            image_dir = '/same'
            [[datasets.subsets]]
            image_dir = '/same'
            [[datasets]]
            resolution = 768
            [[datasets.subsets]]
            image_dir = '/same'
            """);
        Assert.Single(config.Datasets[0].Subsets);
        Assert.Single(config.Datasets[1].Subsets);
        Assert.Contains("duplicate subset", Assert.Single(config.Warnings).Message);
    }

    [Fact]
    public void Mixing_dreambooth_and_fine_tune_subsets_in_one_dataset_is_an_error()
    {
        var error = Fails("[[datasets]]\nresolution = 512\n[[datasets.subsets]]\nimage_dir = '/a'\n[[datasets.subsets]]\nmetadata_file = '/m.json'\n");
        Assert.Contains("cannot be mixed", Assert.Single(error.Problems).Message);
    }

    [Fact]
    public void Bucket_limits_are_rounded_to_the_step_and_checked_against_resolution()
    {
        var config = Parse("[[datasets]]\nresolution = 512\nenable_bucket = true\nmin_bucket_reso = 300\nmax_bucket_reso = 1000\n[[datasets.subsets]]\nimage_dir = '/a'\n");
        Assert.Equal((256, 1024), (config.Datasets[0].MinBucketReso, config.Datasets[0].MaxBucketReso));
        Assert.Equal(["datasets[0].min_bucket_reso", "datasets[0].max_bucket_reso"], config.Warnings.Select(w => w.Key));

        var error = Fails("[[datasets]]\nresolution = 512\nenable_bucket = true\nmin_bucket_reso = 640\n[[datasets.subsets]]\nimage_dir = '/a'\n");
        Assert.Contains("below min_bucket_reso 640", Assert.Single(error.Problems).Message);
        var steps = Fails("[[datasets]]\nresolution = 512\nbucket_reso_steps = 32\n[[datasets.subsets]]\nimage_dir = '/a'\n");
        Assert.Contains("multiple of 64", Assert.Single(steps.Problems).Message);
    }

    [Fact]
    public void Json_config_loads_with_line_numbers_in_errors()
    {
        var json = """
            {
              "general": { "caption_extension": ".txt" },
              "datasets": [
                {
                  "resolution": [768, 512],
                  "subsets": [
                    { "image_dir": "/a", "num_repeats": 5, "class_tokens": null },
                    { "image_dir": "/b", "keep_tokes": 1 }
                  ]
                }
              ]
            }
            """;
        var error = Assert.Throws<ConfigException>(() => DatasetConfig.Parse(json, "cfg.json"));
        var problem = Assert.Single(error.Problems);
        Assert.Equal(8, problem.Line);
        Assert.Contains("'keep_tokens'", problem.Message);

        var config = DatasetConfig.Parse(json.Replace("\"keep_tokes\"", "\"keep_tokens\""), "cfg.json");
        Assert.Equal((768, 512), config.Datasets[0].Resolution);
        Assert.Equal(5, config.Datasets[0].Subsets[0].NumRepeats);
        Assert.Equal(".txt", config.Datasets[0].Subsets[1].CaptionExtension);
    }

    [Fact]
    public void Written_toml_reloads_to_the_same_values_with_scalar_resolution_and_only_non_defaults()
    {
        var config = Parse(KohyaDocsExample);
        var path = Path.Combine(Root, "out.toml");

        config.Save(path);
        var text = File.ReadAllText(path);
        var reloaded = DatasetConfig.Load(path);

        Assert.Contains("resolution = 512\n", text);
        Assert.DoesNotContain("[512", text);
        Assert.DoesNotContain("num_repeats", text);
        Assert.Contains(@"image_dir = 'C:\alpha'", text);
        Assert.Equal(config.Datasets.Count, reloaded.Datasets.Count);
        for (var d = 0; d < config.Datasets.Count; d++)
        {
            Assert.Equal(config.Datasets[d] with { Subsets = [] }, reloaded.Datasets[d] with { Subsets = [] });
            Assert.Equal(config.Datasets[d].Subsets.Select(s => s with { Line = null }), reloaded.Datasets[d].Subsets.Select(s => s with { Line = null }));
        }
        Assert.Empty(Directory.GetFiles(Root, "*.tmp"));
    }

    [Fact]
    public void Relative_image_dir_resolves_next_to_the_config_file()
    {
        Directory.CreateDirectory(Path.Combine(Root, "imgs"));
        var path = Path.Combine(Root, "d.toml");
        File.WriteAllText(path, "[[datasets]]\nresolution = 512\n[[datasets.subsets]]\nimage_dir = 'imgs'\n");
        Assert.Equal(Path.Combine(Root, "imgs"), DatasetConfig.Load(path).Datasets[0].Subsets[0].ImageDir);
    }

    [Theory]
    [InlineData("10_sks dog", 10, "sks dog")]
    [InlineData("5_my_char", 5, "my_char")]
    [InlineData("3", 3, "")]
    [InlineData("0_none", 0, "none")]
    public void Legacy_folder_names_split_like_kohya(string name, int repeats, string tokens)
    {
        Assert.Equal((repeats, tokens), LegacyFolders.ParseFolderName(name));
    }

    [Fact]
    public void Legacy_folders_become_subsets_and_bad_names_are_ignored_with_a_message()
    {
        Directory.CreateDirectory(Path.Combine(Root, "train", "10_sks dog"));
        Directory.CreateDirectory(Path.Combine(Root, "train", "2_other"));
        Directory.CreateDirectory(Path.Combine(Root, "train", "dogs"));
        Directory.CreateDirectory(Path.Combine(Root, "reg", "1_dog"));

        var config = DatasetConfig.FromFolders(Path.Combine(Root, "train"), Path.Combine(Root, "reg"), new DatasetArguments { Resolution = 512 });

        var subsets = config.Datasets[0].Subsets;
        Assert.Equal([(10, "sks dog", false), (2, "other", false), (1, "dog", true)], subsets.Select(s => (s.NumRepeats, s.ClassTokens!, s.IsReg)));
        Assert.Contains(config.Warnings, w => w.Message.Contains("'dogs' is ignored"));
    }
}
