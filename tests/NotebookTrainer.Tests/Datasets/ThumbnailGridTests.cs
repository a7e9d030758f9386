using NotebookTrainer.Datasets;
using NotebookTrainer.Images;
using NotebookTrainer.World;
using SkiaSharp;

namespace NotebookTrainer.Tests.Datasets;

public sealed class ThumbnailGridTests : TempDir
{
    [Fact]
    public void Thumbnails_are_jpeg_data_uris_no_larger_than_the_size_and_broken_files_get_an_empty_cell()
    {
        var images = SampleDataset.Generate(Root, count: 4);
        var broken = Write("broken.png", [1, 2, 3]);

        var grid = ThumbnailGrid.Create(images.Select(i => (i.Path, "<i>tag</i>")).Append((broken, "x")), size: 96);

        Assert.Equal(5, grid.Cells.Count);
        foreach (var cell in grid.Cells.Take(4))
        {
            Assert.StartsWith("data:image/jpeg;base64,", cell.DataUri);
            using var thumb = SKBitmap.Decode(Convert.FromBase64String(cell.DataUri!["data:image/jpeg;base64,".Length..]));
            Assert.Equal(96, Math.Max(thumb.Width, thumb.Height));
        }
        Assert.Null(grid.Cells[4].DataUri);
        var html = grid.ToHtml();
        Assert.Contains("unreadable", html);
        Assert.DoesNotContain("<i>tag", html);
    }
}
