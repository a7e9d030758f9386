using NotebookTrainer.Datasets;
using NotebookTrainer.Datasets.Config;
using NotebookTrainer.Models;
using NotebookTrainer.Tests.Datasets;
using NotebookTrainer.Training;
using NotebookTrainer.World;
using static TorchSharp.torch;

namespace NotebookTrainer.Tests.Training;

[Collection(TorchRandom.Collection)]
public sealed class LatentCacheTests : TempDir
{
    /// <summary>Twelve latents: three world scenes at 64 px and three at 32 px (two buckets), each plain and mirrored.</summary>
    List<(TrainingSample Sample, (int Width, int Height) Bucket, bool Flip)> Work()
    {
        var work = new List<(TrainingSample, (int, int), bool)>();
        foreach (var (side, seed) in new[] { (64, 1), (32, 2) })
            foreach (var image in WorldDataset.Write(Path.Combine(Root, $"s{side}"), SceneOptions.Pretraining, 3, seed, side))
                foreach (var flip in new[] { false, true })
                    work.Add((new TrainingSample(image.Path, "", false, 1, true, new SubsetOptions(), (side, side), (side, side)), (side, side), flip));
        return work;
    }

    [Fact]
    public void Batched_caching_encodes_each_latent_once_and_gives_each_image_a_draw_from_its_own_posterior()
    {
        using var model = StableDiffusion.Load(Path.Combine(WorldModel.Directory, WorldModel.ModelFileName));
        var vae = model.Vae;
        var work = Work();
        var disk = Path.Combine(Root, "cache");
        using var cache = new LatentCache(vae, LatentCache.ModuleHash(vae), keepInMemory: true, disk, new Generator(1));
        var done = 0;
        cache.CacheAll(work, batchSize: 4, _ => done++, CancellationToken.None);
        Assert.Equal((12, 12, 0), (done, cache.Encoded, cache.ReadFromDisk));
        Assert.Equal(12, Directory.GetFiles(disk).Length);

        // A cached latent is its image's posterior mean plus std × a standard normal draw, so the standardised residuals
        // are N(0, 1); pairing each latent with the next item's posterior instead shows how far off a mix-up would be.
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var latents = work.Select(w => cache.Get(w.Sample, w.Bucket, w.Flip)).ToList();
        Tensor Residuals(int shift) => cat(work.Select((w, i) =>
        {
            var (other, bucket, flip) = work[(i + shift) % work.Count];
            if (bucket != w.Bucket) return empty(0);
            using var posterior = vae.encode(LatentCache.TrainingPixels(other, bucket, flip, new Random(0)).unsqueeze(0));
            return ((latents[i] - posterior.Mean.squeeze(0)) / posterior.Std.squeeze(0)).flatten();
        }).ToList());
        var own = Residuals(0);
        Assert.InRange(own.mean().item<float>(), -0.1, 0.1);
        Assert.InRange(own.std().item<float>(), 0.9, 1.1);
        Assert.True(Residuals(1).abs().mean().item<float>() > 3, "a latent paired with another image's posterior should be many stds off");
        Assert.Equal(12, cache.Encoded);   // the Gets above came from memory
    }

    [Fact]
    public void Batch_size_one_draws_exactly_what_encoding_one_image_at_a_time_draws()
    {
        using var model = StableDiffusion.Load(Path.Combine(WorldModel.Directory, WorldModel.ModelFileName));
        var work = Work();
        var hash = LatentCache.ModuleHash(model.Vae);
        using var batched = new LatentCache(model.Vae, hash, keepInMemory: true, null, new Generator(7));
        batched.CacheAll(work, batchSize: 1, _ => { }, CancellationToken.None);
        using var oneByOne = new LatentCache(model.Vae, hash, keepInMemory: false, null, new Generator(7));
        foreach (var (sample, bucket, flip) in work)
        {
            using var expected = oneByOne.Get(sample, bucket, flip);
            using var cached = batched.Get(sample, bucket, flip);
            Assert.True(cached.eq(expected).all().item<bool>(), $"{Path.GetFileName(sample.ImagePath)} flip {flip}");
        }
    }

    [Fact]
    public void Cancelling_stops_between_batches_and_keeps_what_was_cached()
    {
        using var model = StableDiffusion.Load(Path.Combine(WorldModel.Directory, WorldModel.ModelFileName));
        var work = Work();
        var disk = Path.Combine(Root, "cache");
        using var cancel = new CancellationTokenSource();
        using (var cache = new LatentCache(model.Vae, LatentCache.ModuleHash(model.Vae), keepInMemory: false, disk, new Generator(1)))
        {
            var done = 0;
            Assert.Throws<OperationCanceledException>(() => cache.CacheAll(work, batchSize: 2, _ => { if (++done == 4) cancel.Cancel(); }, cancel.Token));
            Assert.Equal(4, Directory.GetFiles(disk).Length);
        }
        using var again = new LatentCache(model.Vae, LatentCache.ModuleHash(model.Vae), keepInMemory: false, disk, new Generator(1));
        again.CacheAll(work, batchSize: 2, _ => { }, CancellationToken.None);
        Assert.Equal((8, 4), (again.Encoded, again.ReadFromDisk));
    }
}
