using NotebookTrainer.Images;

namespace NotebookTrainer.Tests.Images;

/// <summary>Every case is resized by the real cv2 (one python run for all of them) and by <see cref="CvResize"/>; bytes must be equal.</summary>
public sealed class CvResizeReference
{
    public sealed record Case(string Name, int SourceWidth, int SourceHeight, int Width, int Height, string Interpolation, string Pattern);

    public static readonly Case[] Cases =
    [
        // INTER_AREA, fractional factors (including a source that is not square and unequal factors per axis).
        new("area_17x23_to_8_noise", 17, 23, 8, 8, "area", "noise"),
        new("area_23x17_to_8_stripes", 23, 17, 8, 8, "area", "stripes"),
        new("area_1000_to_448_noise", 1000, 1000, 448, 448, "area", "noise"),
        new("area_1000_to_448_shapes", 1000, 1000, 448, 448, "area", "shapes"),
        new("area_1000x700_to_448_gradient", 1000, 700, 448, 448, "area", "gradient"),
        new("area_449_to_448_noise", 449, 449, 448, 448, "area", "noise"),
        new("area_450_to_448_stripes", 450, 450, 448, 448, "area", "stripes"),
        new("area_64_to_7_noise", 64, 64, 7, 7, "area", "noise"),
        // Factors 4/3 and 3/2 mix black and white stripes in near-equal parts, where float rounding decides the last bit.
        new("area_448_to_336_stripes", 448, 448, 336, 336, "area", "stripes"),
        new("area_672_to_448_stripes", 672, 672, 448, 448, "area", "stripes"),
        // INTER_AREA, whole-number factors: 2 rounds with (sum+2)>>2, others through a float product.
        new("area_896_to_448_noise", 896, 896, 448, 448, "area", "noise"),
        new("area_896_to_448_stripes", 896, 896, 448, 448, "area", "stripes"),
        new("area_1344_to_448_noise", 1344, 1344, 448, 448, "area", "noise"),
        new("area_1792_to_448_noise", 1792, 1792, 448, 448, "area", "noise"),
        new("area_45_to_5_noise", 45, 45, 5, 5, "area", "noise"),
        new("area_448_equal_noise", 448, 448, 448, 448, "area", "noise"),
        // INTER_LANCZOS4 enlarging (the edge replicates; checkerboards overshoot and saturate).
        new("lanczos_300_to_448_noise", 300, 300, 448, 448, "lanczos4", "noise"),
        new("lanczos_300_to_448_stripes", 300, 300, 448, 448, "lanczos4", "stripes"),
        new("lanczos_64_to_448_noise", 64, 64, 448, 448, "lanczos4", "noise"),
        new("lanczos_64_to_448_shapes", 64, 64, 448, 448, "lanczos4", "shapes"),
        new("lanczos_224_to_448_gradient", 224, 224, 448, 448, "lanczos4", "gradient"),
        new("lanczos_447_to_448_noise", 447, 447, 448, 448, "lanczos4", "noise"),
        new("lanczos_13x9_to_20x31_noise", 13, 9, 20, 31, "lanczos4", "noise"),
        new("lanczos_5x3_to_12x9_stripes", 5, 3, 12, 9, "lanczos4", "stripes"),
        new("lanczos_1_to_4_noise", 1, 1, 4, 4, "lanczos4", "noise"),
        new("lanczos_448_equal_noise", 448, 448, 448, 448, "lanczos4", "noise"),
    ];

    const string Script = """
        import os, sys
        import cv2, numpy as np
        folder = sys.argv[1]
        modes = {"area": cv2.INTER_AREA, "lanczos4": cv2.INTER_LANCZOS4}
        for line in open(os.path.join(folder, "cases.txt")):
            name, sw, sh, w, h, mode = line.split()
            image = np.fromfile(os.path.join(folder, name + ".in"), np.uint8).reshape(int(sh), int(sw), 3)
            cv2.resize(image, (int(w), int(h)), interpolation=modes[mode]).tofile(os.path.join(folder, name + ".out"))
        print(cv2.__version__)
        """;

    public Dictionary<string, byte[]> Sources { get; } = [];
    public Dictionary<string, byte[]> Expected { get; } = [];
    public string OpenCvVersion { get; }

    public CvResizeReference()
    {
        var folder = Directory.CreateTempSubdirectory("cvresize-").FullName;
        try
        {
            var manifest = new List<string>();
            foreach (var c in Cases)
            {
                var source = Pattern(c.Pattern, c.SourceWidth, c.SourceHeight, seed: c.Name.Length * 7919 + c.SourceWidth);
                Sources[c.Name] = source;
                File.WriteAllBytes(Path.Combine(folder, c.Name + ".in"), source);
                manifest.Add($"{c.Name} {c.SourceWidth} {c.SourceHeight} {c.Width} {c.Height} {c.Interpolation}");
            }
            File.WriteAllLines(Path.Combine(folder, "cases.txt"), manifest);
            OpenCvVersion = OpenCvReference.Run(Script, folder).Trim();
            foreach (var c in Cases) Expected[c.Name] = File.ReadAllBytes(Path.Combine(folder, c.Name + ".out"));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    /// <summary>H×W×3 test images: uniform noise, 1- and 3-pixel black/white stripes, smooth ramps, flat shapes on white.</summary>
    public static byte[] Pattern(string kind, int width, int height, int seed)
    {
        var pixels = new byte[width * height * 3];
        var random = new Random(seed);
        if (kind == "noise")
        {
            random.NextBytes(pixels);
            return pixels;
        }
        for (var y = 0; y < height; y++)
            for (var x = 0; x < width; x++)
                for (var c = 0; c < 3; c++)
                {
                    var at = (y * width + x) * 3 + c;
                    pixels[at] = kind switch
                    {
                        "stripes" => (byte)(((c == 0 ? x : c == 1 ? x / 3 : x + y) & 1) * 255),
                        "gradient" => (byte)((x * 255 / Math.Max(1, width - 1) + c * y) % 256),
                        "shapes" => (byte)(Math.Abs(x - width / 2) < width / 4 && Math.Abs(y - height / 3) < height / 5 ? 40 * c
                                         : (x - width / 3) * (x - width / 3) + (y - height * 2 / 3) * (y - height * 2 / 3) < width * width / 25 ? 200 - 90 * c
                                         : 255),
                        _ => throw new ArgumentException($"unknown pattern {kind}"),
                    };
                }
        return pixels;
    }
}

public class CvResizeTests(CvResizeReference reference) : IClassFixture<CvResizeReference>
{
    public static TheoryData<string> CaseNames => [.. CvResizeReference.Cases.Select(c => c.Name)];

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void Equals_cv2_resize_byte_for_byte(string name)
    {
        var c = CvResizeReference.Cases.Single(c => c.Name == name);
        var actual = new byte[c.Width * c.Height * 3];
        if (c.Interpolation == "area") CvResize.Area(reference.Sources[name], c.SourceWidth, c.SourceHeight, actual, c.Width, c.Height);
        else CvResize.Lanczos4(reference.Sources[name], c.SourceWidth, c.SourceHeight, actual, c.Width, c.Height);

        var expected = reference.Expected[name];
        Assert.Equal(expected.Length, actual.Length);
        var differing = Enumerable.Range(0, expected.Length).Where(i => expected[i] != actual[i]).ToList();
        if (differing.Count > 0)
        {
            var i = differing[0];
            Assert.Fail($"{differing.Count} of {expected.Length} bytes differ from cv2 {reference.OpenCvVersion}; first at row {i / 3 / c.Width}, " +
                        $"column {i / 3 % c.Width}, channel {i % 3}: cv2 {expected[i]}, ours {actual[i]}.");
        }
    }

    [Fact]
    public void The_2x_case_includes_boxes_whose_mean_ends_in_a_half()
    {
        // Guards the comparison itself: cv2 rounds these up with (sum+2)>>2 where a float mean would round to even.
        var noise = reference.Sources["area_896_to_448_noise"];
        var halfTies = 0;
        for (var y = 0; y < 896; y += 2)
            for (var x = 0; x < 896; x += 2)
            {
                var at = (y * 896 + x) * 3;
                if ((noise[at] + noise[at + 3] + noise[at + 896 * 3] + noise[at + 896 * 3 + 3]) % 4 == 2) halfTies++;
            }
        Assert.True(halfTies > 1000, $"only {halfTies} 2x2 boxes end in a half");
    }

    [Fact]
    public void Rejects_wrong_buffer_sizes_and_enlarging_with_area()
    {
        var source = new byte[4 * 4 * 3];
        Assert.Contains("48 bytes", Assert.Throws<ArgumentException>(() => CvResize.Area(source, 4, 5, new byte[12], 2, 2)).Message);
        Assert.Contains("2x2x3 = 12", Assert.Throws<ArgumentException>(() => CvResize.Lanczos4(source, 4, 4, new byte[11], 2, 2)).Message);
        Assert.Contains("Lanczos4", Assert.Throws<ArgumentException>(() => CvResize.Area(source, 4, 4, new byte[8 * 8 * 3], 8, 8)).Message);
    }
}
