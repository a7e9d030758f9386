using SkiaSharp;

namespace NotebookTrainer.World;

/// <summary>Draws a <see cref="Scene"/> with SkiaSharp (antialiased), at any size.</summary>
public static class SceneRenderer
{
    public static SKBitmap Render(Scene scene, int width, int height)
    {
        var bitmap = new SKBitmap(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Premul));
        using var canvas = new SKCanvas(bitmap);
        if (scene.BackgroundColour is { } plain) canvas.Clear(plain);
        else PaintBackground(canvas, width, height, scene.Background);
        var side = Math.Min(width, height);
        foreach (var c in scene.Clutter)
        {
            using var paint = Fill(c.Colour);
            using var path = ClutterPath(c, c.X * width, c.Y * height, c.Radius * side);
            canvas.DrawPath(path, paint);
        }
        foreach (var o in scene.Objects)
        {
            using var paint = Fill(WorldAttributes.ColourOf(o.Colour));
            using var path = ShapePath(o.Shape, o.X * width, o.Y * height, o.Radius * side);
            canvas.DrawPath(path, paint);
        }
        return bitmap;
    }

    public static byte[] RenderPng(Scene scene, int width, int height)
    {
        using var bitmap = Render(scene, width, height);
        using var image = SKImage.FromBitmap(bitmap);
        using var data = image.Encode(SKEncodedImageFormat.Png, 100);
        return data.ToArray();
    }

    static SKPaint Fill(SKColor colour) => new() { Color = colour, IsAntialias = true, Style = SKPaintStyle.Fill };

    static void PaintBackground(SKCanvas canvas, int width, int height, string background)
    {
        switch (background)
        {
            case "white": canvas.Clear(SKColors.White); break;
            case "black": canvas.Clear(SKColors.Black); break;
            case "gradient":
                using (var shader = SKShader.CreateLinearGradient(new SKPoint(0, 0), new SKPoint(width, height),
                           [new SKColor(40, 40, 70), new SKColor(200, 200, 220)], SKShaderTileMode.Clamp))
                using (var paint = new SKPaint { Shader = shader })
                    canvas.DrawRect(0, 0, width, height, paint);
                break;
            default: throw new ArgumentException($"unknown background '{background}'", nameof(background));
        }
    }

    /// <summary>Each shape fills about the same share of its circle of radius <paramref name="r"/>, point up.</summary>
    static SKPath ShapePath(string shape, float cx, float cy, float r)
    {
        switch (shape)
        {
            case "circle":
                var circle = new SKPath();
                circle.AddCircle(cx, cy, r * 0.92f);
                return circle;
            case "square":
                var square = new SKPath();
                square.AddRect(new SKRect(cx - r * 0.8f, cy - r * 0.8f, cx + r * 0.8f, cy + r * 0.8f));
                return square;
            case "triangle": return Polygon(cx, cy + r * 0.15f, r * 1.05f, 3, 1f);
            case "star": return Polygon(cx, cy + r * 0.05f, r, 5, 0.45f);
            case "heart": return Heart(cx, cy, r);
            default: throw new ArgumentException($"unknown shape '{shape}'; the world has {string.Join(", ", WorldAttributes.Shapes)}.", nameof(shape));
        }
    }

    static SKPath ClutterPath(ClutterObject c, float cx, float cy, float r)
    {
        SKPath path;
        if (c.Points == 0)
        {
            path = new SKPath();
            path.AddOval(new SKRect(cx - r, cy - r * c.Aspect, cx + r, cy + r * c.Aspect));
        }
        else path = Polygon(cx, cy, r, c.Points, c.InnerRatio);
        path.Transform(SKMatrix.CreateRotationDegrees(c.Rotation, cx, cy));
        return path;
    }

    /// <summary>A regular polygon (innerRatio 1) or a star (inner vertices at innerRatio × radius), point up.</summary>
    static SKPath Polygon(float cx, float cy, float radius, int points, float innerRatio)
    {
        var path = new SKPath();
        var star = innerRatio < 1f;
        var vertices = star ? points * 2 : points;
        for (var v = 0; v < vertices; v++)
        {
            var r = star && v % 2 == 1 ? radius * innerRatio : radius;
            var angle = -Math.PI / 2 + v * 2 * Math.PI / vertices;
            var p = new SKPoint(cx + (float)(r * Math.Cos(angle)), cy + (float)(r * Math.Sin(angle)));
            if (v == 0) path.MoveTo(p); else path.LineTo(p);
        }
        path.Close();
        return path;
    }

    /// <summary>Two lobes meeting in a point at the bottom.</summary>
    static SKPath Heart(float cx, float cy, float r)
    {
        var path = new SKPath();
        path.MoveTo(cx, cy + r * 0.9f);
        path.CubicTo(cx - r * 1.3f, cy + r * 0.05f, cx - r * 0.95f, cy - r * 1.05f, cx, cy - r * 0.45f);
        path.CubicTo(cx + r * 0.95f, cy - r * 1.05f, cx + r * 1.3f, cy + r * 0.05f, cx, cy + r * 0.9f);
        path.Close();
        return path;
    }
}
