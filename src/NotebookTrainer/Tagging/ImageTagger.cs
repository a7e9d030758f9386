using System.Buffers;
using System.Diagnostics;
using System.Threading.Channels;
using NotebookTrainer.Captions;
using NotebookTrainer.Curation;
using NotebookTrainer.Images;
using NotebookTrainer.Progress;

namespace NotebookTrainer.Tagging;

/// <summary>What the tagger decided for one image.</summary>
public sealed record ImageTags(string ImagePath, string CaptionPath, IReadOnlyList<ScoredTag> Scores, IReadOnlyList<string> Caption);

/// <summary>An image the tagger could not read; tagging carried on without it.</summary>
public sealed record SkippedImage(string ImagePath, string Reason);

/// <summary>
/// Tags a list of images with a <see cref="WdTaggerModel"/>. Decoding and preprocessing run on worker tasks that fill a
/// bounded channel while the session scores the previous batch, so the session never waits on a decoder when there is
/// work ready. Unreadable images are skipped and reported; captions are written atomically.
/// </summary>
public static class ImageTagger
{
    public static TaggingReport TagFolder(WdTaggerModel model, string dir, TaggerOptions options,
        IProgress<ProgressUpdate>? progress = null, CancellationToken cancellationToken = default) =>
        Tag(model, ImageFiles.Enumerate(dir, options.Recursive), options, progress, cancellationToken);

    public static TaggingReport Tag(WdTaggerModel model, IReadOnlyList<string> images, TaggerOptions options,
        IProgress<ProgressUpdate>? progress = null, CancellationToken cancellationToken = default)
    {
        if (options.BatchSize < 1) throw new ArgumentException($"BatchSize is {options.BatchSize}; use 1 or more.", nameof(options));
        var clock = Stopwatch.StartNew();
        var side = model.InputSide;
        var imageFloats = side * side * 3;
        var batchSize = model.FixedBatchSize ?? options.BatchSize;
        var workers = options.PreprocessWorkers > 0 ? options.PreprocessWorkers : Math.Max(1, Environment.ProcessorCount);

        var channel = Channel.CreateBounded<Prepared>(new BoundedChannelOptions(batchSize * 2) { SingleReader = true, FullMode = BoundedChannelFullMode.Wait });
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var next = -1;
        var producers = Enumerable.Range(0, workers).Select(_ => Task.Run(async () =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < images.Count)
            {
                stop.Token.ThrowIfCancellationRequested();
                var buffer = ArrayPool<float>.Shared.Rent(imageFloats);
                Prepared item;
                try
                {
                    WdPreprocessor.Prepare(images[i], side, buffer.AsSpan(0, imageFloats));
                    item = new Prepared(images[i], buffer, null);
                }
                catch (Exception e) when (e is InvalidDataException or IOException or UnauthorizedAccessException or ArgumentException)
                {
                    ArrayPool<float>.Shared.Return(buffer);
                    item = new Prepared(images[i], null, e.Message);
                }
                await channel.Writer.WriteAsync(item, stop.Token).ConfigureAwait(false);
            }
        }, stop.Token)).ToArray();
        var completion = Task.WhenAll(producers).ContinueWith(t => channel.Writer.TryComplete(t.Exception?.GetBaseException()), TaskScheduler.Default);

        var tracker = new ProgressTracker("tagging", images.Count, progress);
        var results = new List<ImageTags>(images.Count);
        var skipped = new List<SkippedImage>();
        var batch = new float[batchSize * imageFloats];
        var paths = new List<string>(batchSize);
        try
        {
            var reader = channel.Reader;
            while (reader.WaitToReadAsync(stop.Token).AsTask().GetAwaiter().GetResult())
            {
                while (reader.TryRead(out var item))
                {
                    if (item.Pixels is null)
                    {
                        skipped.Add(new SkippedImage(item.Path, item.Error!));
                        tracker.Advance(1, $"skipped {Path.GetFileName(item.Path)}");
                        continue;
                    }
                    item.Pixels.AsSpan(0, imageFloats).CopyTo(batch.AsSpan(paths.Count * imageFloats));
                    ArrayPool<float>.Shared.Return(item.Pixels);
                    paths.Add(item.Path);
                    if (paths.Count == batchSize) Flush();
                }
            }
            if (paths.Count > 0) Flush();
        }
        catch
        {
            stop.Cancel();
            throw;
        }
        finally
        {
            try { completion.Wait(CancellationToken.None); } catch (AggregateException) { }
            while (channel.Reader.TryRead(out var left)) if (left.Pixels is not null) ArrayPool<float>.Shared.Return(left.Pixels);
        }

        return new TaggingReport(model.ModelDirectory, model.ExecutionProvider, results, skipped, clock.Elapsed);

        void Flush()
        {
            stop.Token.ThrowIfCancellationRequested();
            var count = paths.Count;
            var scores = model.Run(batch, count);
            for (var k = 0; k < count; k++)
            {
                var image = paths[k];
                var captionPath = ImageFiles.CaptionPathFor(image, options.CaptionExtension);
                var selected = CaptionFormatter.Select(scores.AsSpan(k * model.Tags.Count, model.Tags.Count), model.Tags, options);
                var existing = options.Append && File.Exists(captionPath) ? CaptionText.Parse(CaptionText.ReadFile(captionPath)) : null;
                var caption = CaptionFormatter.Format(selected, options, existing);
                if (options.WriteCaptions)
                    IO.AtomicFile.WriteAllText(captionPath, string.Join(options.Separator, caption) + "\n");
                results.Add(new ImageTags(image, captionPath, selected, caption));
            }
            tracker.Advance(count, Path.GetFileName(paths[^1]));
            paths.Clear();
        }
    }

    readonly record struct Prepared(string Path, float[]? Pixels, string? Error);
}
