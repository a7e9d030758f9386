using System.Globalization;
using System.IO.Compression;
using NotebookTrainer.IO;
using NotebookTrainer.Npz;

namespace NotebookTrainer.Tests.Npz;

public sealed class NpzTests : IDisposable
{
    readonly string dir = Directory.CreateTempSubdirectory("ntrain-npz-").FullName;

    public void Dispose() => Directory.Delete(dir, recursive: true);

    [Fact]
    public void Numpy_reads_what_we_write_as_savez_does()
    {
        var path = Path.Combine(dir, "a.npz");
        var values = Enumerable.Range(0, 24).Select(i => i * 0.5f - 3).ToArray();
        NpzWriter.Write(path,
        [
            ("latents", NpyArray.Float32(values, 2, 3, 4)),
            ("original_size", NpyArray.Int64([768, 512], 2)),
            ("crop_ltrb", NpyArray.Float64([16, 0, 304.5, 192], 4)),
            ("scalar", NpyArray.Float64([2.5])),
        ]);

        var output = NumpyReference.Run("""
            import zipfile
            z = zipfile.ZipFile(sys.argv[1])
            print(sorted((i.filename, i.compress_type) for i in z.infolist()))
            for name in ("latents.npy", "crop_ltrb.npy"):
                with z.open(name) as f:
                    version = np.lib.format.read_magic(f)
                    shape, fortran, dtype = np.lib.format._read_array_header(f, version)
                    print(name, version, f.tell() % 64, fortran)
            d = np.load(sys.argv[1])
            for k in sorted(d.files): print(k, d[k].dtype.str, d[k].shape, d[k].ravel().tolist())
            """, path);
        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("[('crop_ltrb.npy', 0), ('latents.npy', 0), ('original_size.npy', 0), ('scalar.npy', 0)]", lines[0]);
        Assert.Equal("latents.npy (1, 0) 0 False", lines[1]);
        Assert.Equal("crop_ltrb.npy (1, 0) 0 False", lines[2]);
        Assert.Equal("crop_ltrb <f8 (4,) [16.0, 0.0, 304.5, 192.0]", lines[3]);
        Assert.Equal($"latents <f4 (2, 3, 4) [{string.Join(", ", values.Select(v => v.ToString("0.0", CultureInfo.InvariantCulture)))}]", lines[4]);
        Assert.Equal("original_size <i8 (2,) [768, 512]", lines[5]);
        Assert.Equal("scalar <f8 () [2.5]", lines[6]);
    }

    [Fact]
    public void We_read_what_numpy_writes_stored_or_compressed_in_every_dtype_sd_scripts_uses()
    {
        var stored = Path.Combine(dir, "stored.npz");
        var compressed = Path.Combine(dir, "compressed.npz");
        NumpyReference.Run("""
            arrays = dict(
                latents=np.arange(24, dtype=np.float32).reshape(2, 3, 4) / 4,
                original_size=np.array((640, 384), dtype=np.int32),   # numpy < 2 on Windows
                crop_ltrb=np.array((0, 1.5, 2, 3.25)),
                half=np.array([[1.5, -2.0]], dtype=np.float16),
                mask=np.array([[0, 255]], dtype=np.uint8),
                flags=np.array([True, False]))
            np.savez(sys.argv[1], **arrays)
            np.savez_compressed(sys.argv[2], **arrays)
            """, stored, compressed);
        foreach (var path in new[] { stored, compressed })
        {
            using var npz = NpzFile.Open(path);
            Assert.Equal(["crop_ltrb", "flags", "half", "latents", "mask", "original_size"], npz.Keys.Order(StringComparer.Ordinal));
            var latents = npz.Read("latents");
            Assert.Equal(NpyDType.Float32, latents.DType);
            Assert.Equal([2L, 3, 4], latents.Shape);
            Assert.Equal(Enumerable.Range(0, 24).Select(i => i / 4f), latents.ToFloat32());
            var (dtype, shape) = npz.Header("original_size");
            Assert.Equal(NpyDType.Int32, dtype);
            Assert.Equal([2L], shape);
            Assert.Equal([640.0, 384], npz.Read("original_size").ToFloat64());
            Assert.Equal([0, 1.5, 2, 3.25], npz.Read("crop_ltrb").ToFloat64());
            Assert.Equal([1.5f, -2f], npz.Read("half").ToFloat32());
            Assert.Equal([1L, 2], npz.Read("half").Shape);
            Assert.Equal([0.0, 255], npz.Read("mask").ToFloat64());
            Assert.Equal([1.0, 0], npz.Read("flags").ToFloat64());
        }
    }

    [Fact]
    public void Headers_numpy_could_write_but_we_do_not_read_are_refused_with_the_fix()
    {
        var path = Path.Combine(dir, "odd.npz");
        NumpyReference.Run("""
            np.savez(sys.argv[1], big=np.arange(3, dtype='>f4'), fortran=np.asfortranarray(np.ones((2, 3), dtype=np.float32)),
                     text=np.array(['a']), ok=np.zeros(2, dtype=np.float32))
            """, path);
        using var npz = NpzFile.Open(path);
        Assert.Contains("convert the array", Assert.Throws<InvalidDataException>(() => npz.Read("big")).Message);
        Assert.Contains("ascontiguousarray", Assert.Throws<InvalidDataException>(() => npz.Read("fortran")).Message);
        Assert.Contains("'<U1'", Assert.Throws<InvalidDataException>(() => npz.Read("text")).Message);
        Assert.Equal([0f, 0f], npz.Read("ok").ToFloat32());
    }

    [Fact]
    public void Damaged_or_hostile_files_are_refused_naming_the_file()
    {
        var notZip = Path.Combine(dir, "text.npz");
        File.WriteAllText(notZip, "not a zip");
        Assert.Contains(notZip, Assert.Throws<InvalidDataException>(() => NpzFile.Open(notZip)).Message);

        // A header declaring 2^40 floats must be refused before anything that size is allocated.
        var huge = Path.Combine(dir, "huge.npz");
        WriteRawEntry(huge, "latents.npy", Header("{'descr': '<f4', 'fortran_order': False, 'shape': (1099511627776,), }"));
        using (var npz = NpzFile.Open(huge))
            Assert.Contains("more than the", Assert.Throws<InvalidDataException>(() => npz.Read("latents")).Message);

        var truncated = Path.Combine(dir, "truncated.npz");
        WriteRawEntry(truncated, "latents.npy", [.. Header("{'descr': '<f4', 'fortran_order': False, 'shape': (4,), }"), 0, 0, 0, 0]);
        using (var npz = NpzFile.Open(truncated))
            Assert.Contains("truncated", Assert.Throws<InvalidDataException>(() => npz.Read("latents")).Message);

        var garbled = Path.Combine(dir, "garbled.npz");
        WriteRawEntry(garbled, "latents.npy", Header("{'descr': '<f4', 'fortran_order': False, 'shape': (4,"));
        using (var npz = NpzFile.Open(garbled))
            Assert.Contains($"{garbled}: latents.npy: the .npy header is not a dict", Assert.Throws<InvalidDataException>(() => npz.Read("latents")).Message);

        var longHeader = Path.Combine(dir, "long.npz");
        WriteRawEntry(longHeader, "latents.npy", Header("{'descr': '<f4', 'fortran_order': False, 'shape': (4,), }" + new string(' ', 20_000)));
        using (var npz = NpzFile.Open(longHeader))
            Assert.Contains("numpy's own limit", Assert.Throws<InvalidDataException>(() => npz.Read("latents")).Message);

        var fifo = Path.Combine(dir, "fifo.npz");
        using (var mkfifo = System.Diagnostics.Process.Start("mkfifo", [fifo])) mkfifo.WaitForExit();
        Assert.Throws<UntrustedFileException>(() => NpzFile.Open(fifo));

        var previous = InputLimits.Current;
        try
        {
            InputLimits.Current = previous with { MaxNpzBytes = 100 };
            var big = Path.Combine(dir, "big.npz");
            NpzWriter.Write(big, [("latents", NpyArray.Float32(new float[64], 64))]);
            Assert.Contains("NTRAIN_MAX_NPZ_BYTES", Assert.Throws<UntrustedFileException>(() => NpzFile.Open(big)).Message);
        }
        finally { InputLimits.Current = previous; }
    }

    [Fact]
    public void Mutated_files_fail_only_with_an_error_naming_the_file()
    {
        var valid = Path.Combine(dir, "valid.npz");
        NpzWriter.Write(valid, [("latents", NpyArray.Float32(new float[24], 4, 3, 2)), ("original_size", NpyArray.Int64([64, 48], 2)), ("crop_ltrb", NpyArray.Float64([0, 0, 64, 48], 4))]);
        var bytes = File.ReadAllBytes(valid);
        byte[] magic = [0x93, .. "NUMPY"u8];
        var headers = Enumerable.Range(0, bytes.Length - 6).Where(i => bytes.AsSpan(i).StartsWith(magic)).ToArray();
        Assert.Equal(3, headers.Length);
        var path = Path.Combine(dir, "mutated.npz");
        var random = new Random(15);
        for (var round = 0; round < 600; round++)
        {
            var mutated = bytes.ToArray();
            for (var k = random.Next(1, 4); k > 0; k--)
            {
                // Mostly the .npy headers (magic, version, length, dict), sometimes anywhere (zip records).
                var at = random.Next(3) > 0 ? headers[random.Next(headers.Length)] + random.Next(80) : random.Next(mutated.Length);
                mutated[at] = random.Next(4) == 0 ? (byte)random.Next(256) : (byte)"',()<>fi0123456789TF {}:LU"[random.Next(26)];
            }
            if (random.Next(8) == 0) mutated = mutated[..random.Next(mutated.Length)];
            File.WriteAllBytes(path, mutated);
            try
            {
                using var npz = NpzFile.Open(path);
                foreach (var key in npz.Keys) npz.Read(key).ToFloat64();
            }
            catch (InvalidDataException e) { Assert.Contains(path, e.Message); }
            NotebookTrainer.Datasets.FineTune.LatentsNpz.Check(path, (8, 6), 2, flipAug: false, alphaMask: null, imageSize: (64, 48));
        }
    }

    /// <summary>A version 1.0 .npy header around <paramref name="dict"/> (not padded: readers must not rely on alignment).</summary>
    static byte[] Header(string dict)
    {
        var text = System.Text.Encoding.ASCII.GetBytes(dict + "\n");
        return [0x93, .. "NUMPY"u8, 1, 0, (byte)text.Length, (byte)(text.Length >> 8), .. text];
    }

    static void WriteRawEntry(string path, string name, byte[] bytes)
    {
        using var zip = ZipFile.Open(path, ZipArchiveMode.Create);
        using var stream = zip.CreateEntry(name, CompressionLevel.NoCompression).Open();
        stream.Write(bytes);
    }
}
