using System.Diagnostics;
using System.IO.Compression;
using System.Text;
using System.Text.Json;
using NotebookTrainer.Acquisition;
using NotebookTrainer.Checkpoints;
using NotebookTrainer.Curation;
using NotebookTrainer.Datasets;
using NotebookTrainer.IO;
using NotebookTrainer.SafeTensors;
using NotebookTrainer.Tests.Datasets;
using Xunit.Abstractions;

namespace NotebookTrainer.Tests.Security;

/// <summary>
/// Seeded, time-bounded fuzzing of the five readers that take files from strangers. Every generated input must end in
/// success or a typed error whose message is one line naming the file; no input may take more than a few seconds or
/// write outside its target folder. The heaviest inputs of each reader also run through ntrain in a child process,
/// whose exit code (0, 1 or 2, never a crash) and peak resident memory (under 512 MiB) are checked.
/// </summary>
public sealed class HostileInputFuzzTests(ITestOutputHelper output) : IDisposable
{
    static readonly TimeSpan PerInput = TimeSpan.FromSeconds(5);
    const long PeakLimit = 512L << 20;

    readonly string sandbox = Directory.CreateTempSubdirectory("nt-fuzz-").FullName;
    public void Dispose() => Directory.Delete(sandbox, true);

    string Target => Path.Combine(sandbox, "target");
    string Outside => Path.Combine(sandbox, "outside");

    static readonly string[] Weird = ["..", "../..", "/", "\\", "\0", "\u001b[2J", "\r\n", "\ud800", "\u202e", new string('x', 300), "C:", ".ntrain", "a.txt", "A.TXT", "", " ", "~", "%00", "\t", "é"];

    static string Pick(Random r, IReadOnlyList<string> items) => items[r.Next(items.Count)];

    /// <summary>Runs the readers over generated inputs; returns (inputs, accepted, refused, slowest).</summary>
    (int Inputs, int Accepted, int Refused, TimeSpan Slowest) Fuzz(string reader, int seed, int inputs, Func<Random, int, string> generate, Action<string> read, params Type[] refusals)
    {
        var random = new Random(seed);
        int accepted = 0, refused = 0;
        var slowest = TimeSpan.Zero;
        var total = Stopwatch.StartNew();
        for (var i = 0; i < inputs; i++)
        {
            if (Directory.Exists(Target)) Directory.Delete(Target, true);
            Directory.CreateDirectory(Target);
            var input = generate(random, i);
            var clock = Stopwatch.StartNew();
            var run = Task.Run(() => read(input));
            Assert.True(Task.WhenAny(run, Task.Delay(TimeSpan.FromSeconds(30))).Result == run, $"{reader} input {i} (seed {seed}) hangs: {input}");
            slowest = clock.Elapsed > slowest ? clock.Elapsed : slowest;
            Assert.True(clock.Elapsed < PerInput, $"{reader} input {i} took {clock.Elapsed}");
            if (run.Exception?.InnerException is { } e)
            {
                Assert.True(refusals.Any(t => t.IsInstanceOfType(e)), $"{reader} input {i} (seed {seed}): {e.GetType().Name}: {e}");
                Assert.DoesNotContain('\n', e.Message.TrimEnd());
                Assert.True(e.Message.Contains(Path.GetFileName(input)) || e.Message.Contains(input), $"{reader} input {i}: message does not name {input}: {e.Message}");
                refused++;
            }
            else accepted++;
            Assert.Empty(Directory.GetFileSystemEntries(Outside));
            Assert.Equal(new[] { "outside", "target" }, Directory.GetFileSystemEntries(sandbox).Select(Path.GetFileName).Order());
        }
        output.WriteLine($"{reader}: {inputs} inputs in {total.Elapsed.TotalSeconds:0.0} s, {accepted} accepted, {refused} refused, slowest {slowest.TotalMilliseconds:0} ms");
        return (inputs, accepted, refused, slowest);
    }

    (long Peak, int Runs) Heavy(string reader, IEnumerable<string[]> commands)
    {
        long peak = 0;
        var runs = 0;
        var clock = Stopwatch.StartNew();
        foreach (var args in commands)
        {
            var run = BoundedNtrain.Run(args, TimeSpan.FromSeconds(60));
            Assert.False(run.TimedOut, $"{string.Join(' ', args)}: {run}");
            Assert.Contains(run.ExitCode!.Value, new[] { 0, 1, 2 });
            Assert.DoesNotContain("   at ", run.Stderr);
            Assert.True(run.PeakResidentBytes < PeakLimit, $"{string.Join(' ', args)}: {run}");
            peak = Math.Max(peak, run.PeakResidentBytes);
            runs++;
        }
        Assert.Empty(Directory.GetFileSystemEntries(Outside));
        output.WriteLine($"{reader}: {runs} heavy inputs in ntrain in {clock.Elapsed.TotalSeconds:0.0} s, peak RSS {peak >> 20} MiB");
        return (peak, runs);
    }

    void Setup() => Directory.CreateDirectory(Outside);

    // --- safetensors ---

    static readonly string[] JsonFragments = ["\"\\ud800\"", "\"\\u001b\"", "-1", "1e400", "18446744073709551616", "null", "[]", "{}", "\"F32\"", "\"X9\"", "[0,4]", "[4,0]", "[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]", "\"__metadata__\"", ",", "\"", "{\"a\":\"b\"}", "[1,2,3]", "9223372036854775807"];

    string SafeTensorsInput(Random r, int i)
    {
        var names = new[] { "t", "a\u001b[31m", "__metadata__", "\\ud800", "x" };
        var sb = new StringBuilder("{");
        var tensors = r.Next(4);
        long offset = 0;
        for (var t = 0; t < tensors; t++)
        {
            var n = r.Next(1, 5);
            sb.Append($"\"{Pick(r, names)}{t}\":{{\"dtype\":\"{Pick(r, ["F32", "F16", "I64", "BOOL", "X"])}\",\"shape\":[{n}],\"data_offsets\":[{offset},{offset + n * 4}]}},");
            offset += n * 4;
        }
        sb.Append("\"__metadata__\":{\"k\":\"v\"}}");
        var header = sb.ToString();
        for (var m = r.Next(4); m > 0; m--)
        {
            var at = r.Next(header.Length);
            header = r.Next(2) == 0 ? header.Insert(at, Pick(r, JsonFragments)) : header.Remove(at, Math.Min(r.Next(1, 6), header.Length - at));
        }
        var bytes = Encoding.UTF8.GetBytes(header);
        var declared = r.Next(10) == 0 ? (ulong)r.NextInt64() : (ulong)bytes.Length;
        var path = Path.Combine(Target, $"m{i}.safetensors");
        File.WriteAllBytes(path, [.. BitConverter.GetBytes(declared), .. bytes, .. new byte[Math.Max(0, offset + r.Next(-4, 5))]]);
        return path;
    }

    [Fact]
    public void Safetensors_reader()
    {
        Setup();
        var result = Fuzz("safetensors", 14_001, 3_000, SafeTensorsInput, path =>
        {
            using var file = SafeTensorsFile.Open(path);
            _ = file.Header.Entries.Sum(e => e.ByteLength);
        }, typeof(SafeTensorsFormatException));
        Assert.True(result.Accepted > 50 && result.Refused > 500, $"{result}");

        var big = Path.Combine(Target, "big.safetensors");
        var header = "{" + string.Join(",", Enumerable.Range(0, 210_000).Select(i => $"\"tensor_{i}_\\u001b\":{{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[0,0]}}")) + "}";
        File.WriteAllBytes(big, [.. BitConverter.GetBytes((ulong)Encoding.UTF8.GetByteCount(header)), .. Encoding.UTF8.GetBytes(header)]);
        Assert.InRange(new FileInfo(big).Length, 14L << 20, 16L << 20);   // just under the header cap
        Heavy("safetensors", [["model", "inspect", big], ["lora", "inspect", big]]);
    }

    // --- unpickler ---

    static readonly byte[] Opcodes = [0x80, (byte)'(', (byte)')', (byte)']', (byte)'}', (byte)'N', 0x88, (byte)'K', (byte)'M', (byte)'J', 0x8a, (byte)'X', 0x8c, (byte)'q', 0x94, (byte)'h', (byte)'c', 0x93, (byte)'t', 0x85, 0x86, (byte)'a', (byte)'e', (byte)'s', (byte)'u', (byte)'R', 0x81, (byte)'b', (byte)'Q', (byte)'.', 0x8f, 0x90, 0x91, (byte)'B', 0x8e, 0x8b];

    string PickleInput(Random r, int i)
    {
        var pickle = new MemoryStream();
        pickle.Write([0x80, 2]);
        for (var n = r.Next(1, 200); n > 0; n--)
        {
            var op = Opcodes[r.Next(Opcodes.Length)];
            pickle.WriteByte(op);
            var argument = new byte[op switch { (byte)'K' or 0x8c or (byte)'q' or (byte)'h' or 0x8a => 1, (byte)'M' => 2, (byte)'J' or (byte)'X' or (byte)'B' or 0x8b => 4, 0x8e => 8, _ => 0 }];
            r.NextBytes(argument);
            if (argument.Length >= 4 && r.Next(3) > 0) { Array.Clear(argument); argument[0] = (byte)r.Next(8); }
            pickle.Write(argument);
            if (op == (byte)'c') pickle.Write(Encoding.ASCII.GetBytes(Pick(r, ["torch\nFloatStorage\n", "os\nsystem\n", "collections\nOrderedDict\n", "torch._utils\n_rebuild_tensor_v2\n", "builtins\neval"])));
            else if (op is (byte)'X' or 0x8c or (byte)'B' or 0x8e) pickle.Write(Encoding.UTF8.GetBytes(Pick(r, ["storage", "cpu", "a\u001b", "x"])).AsSpan(0, Math.Min(argument.Length > 0 ? argument[0] : 0, 1)));
        }
        if (r.Next(2) == 0) pickle.WriteByte((byte)'.');
        var path = Path.Combine(Target, $"p{i}.ckpt");
        using var zip = ZipFile.Open(path, ZipArchiveMode.Create);
        using (var s = zip.CreateEntry("archive/data.pkl").Open()) pickle.WriteTo(s);
        using (var s = zip.CreateEntry("archive/data/0").Open()) s.Write(new byte[16]);
        return path;
    }

    [Fact]
    public void Unpickler()
    {
        Setup();
        var result = Fuzz("unpickler", 14_002, 3_000, PickleInput, path => PickleCheckpoint.Open(path).Dispose(), typeof(CheckpointFormatException));
        Assert.True(result.Refused > 1000, $"{result}");

        string Bomb(string name, byte[] body)
        {
            var path = Path.Combine(Target, name);
            using var zip = ZipFile.Open(path, ZipArchiveMode.Create);
            using (var s = zip.CreateEntry("archive/data.pkl", CompressionLevel.SmallestSize).Open()) s.Write([0x80, 2, .. body]);
            return path;
        }
        Heavy("unpickler", new[]
        {
            Bomb("dicts.ckpt", Enumerable.Repeat((byte)'}', 30_000_000).ToArray()),
            Bomb("lists.ckpt", Enumerable.Repeat((byte)']', 30_000_000).ToArray()),
            Bomb("memo.ckpt", [(byte)'N', .. Enumerable.Repeat((byte)0x94, 30_000_000)]),
            Bomb("marks.ckpt", Enumerable.Repeat((byte)'(', 30_000_000).ToArray()),
            Bomb("strings.ckpt", Enumerable.Range(0, 200_000).SelectMany(_ => new byte[] { 0x8c, 200 }.Concat(new byte[200])).ToArray()),
        }.Select(p => new[] { "model", "inspect", p }));
    }

    // --- zip importer ---

    string ZipInput(Random r, int i)
    {
        var path = Path.Combine(Target, $"z{i}.zip");
        using (var zip = ZipFile.Open(path, ZipArchiveMode.Create))
            for (var n = r.Next(1, 6); n > 0; n--)
            {
                var name = string.Join('/', Enumerable.Range(0, r.Next(1, 4)).Select(_ => r.Next(3) == 0 ? Pick(r, Weird) : $"d{r.Next(3)}")) + Pick(r, [".txt", ".png", ".TXT", ".exe", ""]);
                if (r.Next(8) == 0) name = Path.GetRelativePath(Path.Combine(Target, "out"), Path.Combine(Outside, "x.txt"));
                if (r.Next(12) == 0) name = Path.Combine(Outside, "abs.txt");
                if (name.Length == 0) name = "empty";
                var entry = zip.CreateEntry(name, r.Next(2) == 0 ? CompressionLevel.NoCompression : CompressionLevel.Fastest);
                if (r.Next(10) == 0) entry.ExternalAttributes = unchecked((int)(0xA1FFu << 16));
                using var s = entry.Open();
                s.Write(new byte[r.Next(0, 3000)]);
            }
        var bytes = File.ReadAllBytes(path);
        for (var m = r.Next(3) == 0 ? r.Next(1, 4) : 0; m > 0; m--) bytes[r.Next(bytes.Length)] = (byte)r.Next(256);
        File.WriteAllBytes(path, bytes);
        if (r.Next(6) == 0)
        {
            Directory.CreateDirectory(Path.Combine(Target, "out"));
            Directory.CreateSymbolicLink(Path.Combine(Target, "out", "d1"), Outside);
        }
        return path;
    }

    [Fact]
    public void Zip_importer()
    {
        Setup();
        var limits = InputLimits.Current with { MaxZipTotalBytes = 6_000, MaxZipEntryBytes = 2_500 };
        var result = Fuzz("zip", 14_003, 1_800, ZipInput, path => ZipImporter.Extract(path, Path.Combine(Target, "out"), limits), typeof(InvalidDataException), typeof(UntrustedFileException));
        Assert.True(result.Accepted > 500 && result.Refused > 50, $"{result}");

        string Big(string name, int entries, int bytes, CompressionLevel level)
        {
            var path = Path.Combine(Target, name);
            using var zip = ZipFile.Open(path, ZipArchiveMode.Create);
            for (var e = 0; e < entries; e++)
            {
                using var s = zip.CreateEntry($"{e % 7}/{e}.txt", level).Open();
                s.Write(new byte[bytes]);
            }
            return path;
        }
        Heavy("zip", new[] { Big("bomb.zip", 20, 64 << 20, CompressionLevel.SmallestSize), Big("many.zip", 100_001, 0, CompressionLevel.NoCompression), Big("wide.zip", 30_000, 10, CompressionLevel.Fastest) }
            .Select(p => new[] { "acquire", "zip", p, "--out", Path.Combine(Target, "heavy-out") }));
    }

    // --- dataset / TOML loader ---

    static readonly string[] ConfigKeys = ["resolution", "batch_size", "num_repeats", "image_dir", "caption_extension", "enable_bucket", "keep_tokens", "metadata_file", "min_bucket_reso", "max_bucket_reso", "bucket_reso_steps", "class_tokens", "custom_attributes", "\"a\\u001bb\"", "general", "datasets", "x.y.z"];
    static readonly string[] ConfigValues = ["512", "-1", "0", "4611686018427387904", "2147483647", "9223372036854775807", "1.5", "true", "'img'", "\"\\ud800\"", "'/dev/zero'", "[512, 512]", "[]", "{ a = 1 }", "'../outside'", "\"\\u0000\"", "[[[[[[1]]]]]]", "1979-05-27", "inf", "nan"];

    string ConfigInput(Random r, int i)
    {
        var images = Directory.CreateDirectory(Path.Combine(Target, "img")).FullName;
        File.WriteAllBytes(Path.Combine(images, "a.png"), r.Next(4) == 0 ? [0x89, 0x50, 0x4E, 0x47, .. new byte[r.Next(40)]] : TestImages.PngHeaderOnly(r.Next(-5, 5000), r.Next(1, 5000)));
        File.WriteAllBytes(Path.Combine(images, "a.txt"), Encoding.UTF8.GetBytes(Pick(r, ["a, b", "\u001b[2J", "", "\ud800x", new string('t', 5000)])));
        var sb = new StringBuilder();
        if (r.Next(5) == 0)
        {
            var depth = r.Next(30, 90);
            sb.Append("deep = ").Append(new string('[', depth)).Append(new string(']', depth)).Append('\n');
        }
        sb.Append("[general]\n");
        for (var n = r.Next(6); n > 0; n--) sb.Append($"{Pick(r, ConfigKeys)} = {Pick(r, ConfigValues)}\n");
        sb.Append(r.Next(4) == 0 ? "[general]\n" : "").Append("[[datasets]]\n");
        for (var n = r.Next(4); n > 0; n--) sb.Append($"{Pick(r, ConfigKeys)} = {Pick(r, ConfigValues)}\n");
        sb.Append("[[datasets.subsets]]\nimage_dir = '").Append(images).Append("'\n");
        for (var n = r.Next(4); n > 0; n--) sb.Append($"{Pick(r, ConfigKeys)} = {Pick(r, ConfigValues)}\n");
        var text = sb.ToString();
        for (var m = r.Next(3); m > 0; m--) text = text.Insert(r.Next(text.Length), Pick(r, Weird));
        var json = r.Next(8) == 0;
        var path = Path.Combine(Target, json ? $"c{i}.json" : $"c{i}.toml");
        File.WriteAllBytes(path, Encoding.UTF8.GetBytes(json ? "{\"general\": {\"resolution\": " + Pick(r, ConfigValues) + "}, \"datasets\": [{\"subsets\": [{\"image_dir\": " + JsonSerializer.Serialize(images) + "}]}]}" : text));
        return path;
    }

    [Fact]
    public void Dataset_and_toml_loader()
    {
        Setup();
        var result = Fuzz("dataset/TOML", 14_004, 1_400, ConfigInput, path =>
        {
            var report = DatasetInspector.Inspect(path);
            foreach (var problem in report.Problems) Assert.DoesNotContain('\n', problem.Message);
            _ = report.ToJson();
        });
        Assert.True(result.Accepted == result.Inputs, $"{result}");

        string Config(string name, string text)
        {
            var path = Path.Combine(Target, name);
            File.WriteAllBytes(path, Encoding.UTF8.GetBytes(text));
            return path;
        }
        var images = Directory.CreateDirectory(Path.Combine(Target, "heavy-img")).FullName;
        File.WriteAllBytes(Path.Combine(images, "a.png"), TestImages.Png(64, 64));
        Heavy("dataset/TOML", new[]
        {
            Config("keys.toml", "[general]\nresolution = 512\n[general.custom_attributes]\n" + string.Join('\n', Enumerable.Range(0, 200_000).Select(k => $"k{k} = {k}"))),
            Config("repeats.toml", $"[general]\nresolution = 512\n[[datasets]]\n[[datasets.subsets]]\nimage_dir = '{images}'\nnum_repeats = 10000000\n"),
            Config("deep.toml", "a = " + new string('[', 5000) + new string(']', 5000)),
            Config("wide.json", "{\"general\": {" + string.Join(',', Enumerable.Range(0, 200_000).Select(k => $"\"k{k}\": {k}")) + "}}"),
        }.Select(p => new[] { "dataset", "inspect", p }));
    }

    // --- journal reader ---

    string JournalInput(Random r, int i)
    {
        var folder = Directory.CreateDirectory(Path.Combine(Target, "ds")).FullName;
        File.WriteAllBytes(Path.Combine(folder, "a.png"), TestImages.PngHeaderOnly(8, 8));
        File.WriteAllText(Path.Combine(folder, "a.txt"), "x, y");
        if (r.Next(5) == 0) Directory.CreateSymbolicLink(Path.Combine(folder, "sub"), Outside);
        var files = new[] { "a.txt", "b.txt", "sub/c.txt", "../outside/d.txt", Path.Combine(Outside, "e.txt"), ".ntrain/curation.owner", "a.txt\0", "\u001b.txt", null };
        var lines = new StringBuilder();
        var sequence = 1;
        for (var n = r.Next(1, 6); n > 0; n--)
        {
            var kind = Pick(r, ["Edit", "Edit", "Undo", "Redo", "Bogus"]);
            var changes = Enumerable.Range(0, r.Next(0, 3)).Select(_ => new { File = files[r.Next(files.Length)], Before = r.Next(2) == 0 ? null : "x, y", After = r.Next(3) == 0 ? null : "pwned" }).ToArray();
            var json = JsonSerializer.Serialize(new { Sequence = r.Next(6) == 0 ? 99 : sequence++, Kind = kind, Time = DateTimeOffset.UnixEpoch, Description = r.Next(8) == 0 ? null : "d", Target = kind == "Edit" ? (int?)null : r.Next(1, 4), Changes = r.Next(8) == 0 ? null : changes });
            if (r.Next(6) == 0) json = json.Insert(r.Next(json.Length), Pick(r, JsonFragments));
            var signature = r.Next(6) == 0 ? new string('0', 64) : JournalKey.Sign(json);
            lines.Append(signature).Append(' ').Append(json).Append(r.Next(10) == 0 ? "" : "\n");
        }
        Directory.CreateDirectory(Path.Combine(folder, ".ntrain"));
        var journal = Path.Combine(folder, TagJournal.RelativePath);
        File.WriteAllText(journal, lines.ToString());
        return journal;
    }

    [Fact]
    public void Journal_reader()
    {
        Setup();
        var result = Fuzz("journal", 14_005, 1_000, JournalInput, journal =>
        {
            var folder = Path.GetDirectoryName(Path.GetDirectoryName(journal))!;
            using var session = CurationSession.Open(folder);
            try { session.Undo(); session.Redo(); session.Undo(); }
            catch (InvalidOperationException e) when (e.Message.StartsWith("Nothing to", StringComparison.Ordinal)) { }
            catch (CurationConflictException) { }
        }, typeof(InvalidDataException), typeof(UntrustedFileException));
        Assert.True(result.Accepted > 200 && result.Refused > 200, $"{result}");

        var folder = Directory.CreateDirectory(Path.Combine(Target, "heavy")).FullName;
        File.WriteAllBytes(Path.Combine(folder, "a.png"), TestImages.PngHeaderOnly(8, 8));
        File.WriteAllText(Path.Combine(folder, "a.txt"), "x");
        Directory.CreateDirectory(Path.Combine(folder, ".ntrain"));
        var caption = new string('t', 100_000);
        var big = new StringBuilder();
        for (var s = 1; s <= 400; s++)
        {
            var json = JsonSerializer.Serialize(new { Sequence = s, Kind = "Edit", Time = DateTimeOffset.UnixEpoch, Description = "d", Target = (int?)null, Changes = new[] { new { File = "a.txt", Before = caption, After = caption } } });
            big.Append(JournalKey.Sign(json)).Append(' ').Append(json).Append('\n');
        }
        File.WriteAllText(Path.Combine(folder, TagJournal.RelativePath), big.ToString());
        Heavy("journal", [["tags", "stats", folder], ["tags", "undo", folder], ["tags", "edit", folder, "--dedupe", "--dry-run"]]);
    }
}
