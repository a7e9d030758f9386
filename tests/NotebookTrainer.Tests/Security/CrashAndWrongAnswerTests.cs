using System.Buffers.Binary;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using NotebookTrainer.Curation;
using NotebookTrainer.Datasets;
using NotebookTrainer.Images;
using NotebookTrainer.Tests.Curation;
using NotebookTrainer.Tests.Datasets;

namespace NotebookTrainer.Tests.Security;

/// <summary>Inputs that crashed ntrain (exit 134 with a stack trace) or gave a wrong answer instead of an error.</summary>
public sealed class CrashAndWrongAnswerTests : IDisposable
{
    readonly string dir = Directory.CreateTempSubdirectory("nt-crash-").FullName;
    public void Dispose() => Directory.Delete(dir, true);

    static readonly TimeSpan Bound = TimeSpan.FromSeconds(60);

    string SafeTensors(string name, string headerJson)
    {
        var header = Encoding.UTF8.GetBytes(headerJson);
        var path = Path.Combine(dir, name);
        File.WriteAllBytes(path, [.. BitConverter.GetBytes((ulong)header.Length), .. header, 0, 0, 0, 0]);
        return path;
    }

    string Folder()
    {
        var folder = Directory.CreateDirectory(Path.Combine(dir, "img")).FullName;
        File.WriteAllBytes(Path.Combine(folder, "a.png"), TestImages.Png(64, 64));
        File.WriteAllBytes(Path.Combine(folder, "b.png"), TestImages.Png(64, 64));
        return folder;
    }

    string Toml(string name, string text)
    {
        var path = Path.Combine(dir, name);
        File.WriteAllText(path, text);
        return path;
    }

    static void AssertOneLineError(BoundedRun run, string expected)
    {
        Assert.False(run.TimedOut, run.ToString());
        Assert.Equal(2, run.ExitCode);
        Assert.Contains(expected, run.Stderr + run.Stdout);
        Assert.DoesNotContain("Unhandled exception", run.Stderr);
        Assert.DoesNotContain("   at ", run.Stderr);
    }

    [Theory]
    [InlineData("{\"__metadata__\":{\"a\":\"\\ud800\"},\"t\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}")]
    [InlineData("{\"\\udc00x\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}")]
    public void A_lone_surrogate_escape_in_a_safetensors_header_is_a_format_error(string header)
    {
        var path = SafeTensors("surrogate.safetensors", header);
        foreach (var command in new[] { "model", "lora" })
            AssertOneLineError(BoundedNtrain.Run([command, "inspect", path], Bound), "surrogate.safetensors: not a valid safetensors file");
    }

    [Fact]
    public void Toml_nested_deeper_than_64_is_a_config_error()
    {
        foreach (var text in new[] { "a = " + new string('[', 70) + new string(']', 70), "a = " + string.Concat(Enumerable.Repeat("{ b = ", 70)) + "1" + new string('}', 70) })
        {
            var run = BoundedNtrain.Run(["dataset", "inspect", Toml("deep.toml", text + "\n")], Bound);
            AssertOneLineError(run, "deep.toml:1");
        }
    }

    [Theory]
    [InlineData("2147483647")]
    [InlineData("9223372036854775807")]
    public void Num_repeats_near_or_past_2_to_the_31_is_an_error_not_an_out_of_memory(string repeats)
    {
        var folder = Folder();
        var config = Toml("repeats.toml", $"[general]\nresolution = 512\n[[datasets]]\n[[datasets.subsets]]\nimage_dir = '{folder}'\nnum_repeats = {repeats}\n");
        var run = BoundedNtrain.Run(["dataset", "inspect", config], Bound);
        AssertOneLineError(run, "num_repeats");
        Assert.True(run.PeakResidentBytes < 512L << 20, run.ToString());
    }

    [Fact]
    public void A_bmp_with_height_int_min_and_a_png_of_0xFFFFFFFF_are_errors_with_the_real_numbers()
    {
        var bmp = TestImages.Bmp(8, 8);
        BinaryPrimitives.WriteInt32LittleEndian(bmp.AsSpan(22), int.MinValue);
        var bmpPath = Path.Combine(dir, "min.bmp");
        File.WriteAllBytes(bmpPath, bmp);
        var bmpHeader = ImageHeader.Read(bmpPath);
        Assert.False(bmpHeader.IsUsable);
        Assert.Contains("2147483648", bmpHeader.Problems.Single(p => p.IsError).Message);

        var png = TestImages.Png(8, 8);
        BinaryPrimitives.WriteUInt32BigEndian(png.AsSpan(16), 0xFFFFFFFF);
        BinaryPrimitives.WriteUInt32BigEndian(png.AsSpan(20), 0xFFFFFFFF);
        var pngPath = Path.Combine(dir, "huge.png");
        File.WriteAllBytes(pngPath, png);
        var pngHeader = ImageHeader.Read(pngPath);
        Assert.False(pngHeader.IsUsable);
        Assert.Contains("4294967295x4294967295", pngHeader.Problems.Single(p => p.IsError).Message);
        Assert.DoesNotContain("-1", pngHeader.Problems.Single(p => p.IsError).Message);
    }

    [Fact]
    public void A_batch_size_of_2_to_the_62_is_an_error_not_minus_one_steps()
    {
        var folder = Folder();
        var config = Toml("batch.toml", $"[general]\nresolution = 512\nbatch_size = 4611686018427387904\n[[datasets]]\n[[datasets.subsets]]\nimage_dir = '{folder}'\n");
        var run = BoundedNtrain.Run(["dataset", "inspect", config], Bound);
        AssertOneLineError(run, "out of range");
        Assert.DoesNotContain("-1 steps", run.Stdout);

        var plan = DatasetInspector.Inspect(folder, new InspectOptions { Arguments = new InspectOptions().Arguments with { BatchSize = int.MaxValue } }).Plan!;
        Assert.Equal(1, plan.BatchesPerEpoch);
    }

    [Fact]
    public void A_toml_with_many_distinct_keys_has_no_false_duplicate_errors_and_real_duplicates_are_found()
    {
        var keys = string.Join('\n', Enumerable.Range(0, 70_000).Select(i => $"k{i} = {i}"));
        var config = Toml("many.toml", $"[general]\nresolution = 512\n[general.custom_attributes]\n{keys}\n");
        var report = DatasetInspector.Inspect(config);
        Assert.DoesNotContain(report.Problems, p => p.Message.Contains("already defined"));

        var duplicate = DatasetInspector.Inspect(Toml("dup.toml", "[general]\nresolution = 512\nresolution = 768\n[general]\n"));
        Assert.Contains(duplicate.Problems, p => p.Line == 3 && p.Message.Contains("'resolution' is already defined on line 2"));
    }

    [Fact]
    public void Control_characters_in_tensor_names_and_toml_keys_are_escaped_on_the_terminal()
    {
        var lora = SafeTensors("ctl.safetensors", "{\"a\\u001b[31mred\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}");
        var model = BoundedNtrain.Run(["lora", "inspect", lora], Bound);
        Assert.DoesNotContain('\u001b', model.Stdout + model.Stderr);
        Assert.Contains("a\\x1b[31mred", model.Stdout + model.Stderr);

        var config = Toml("ctl.toml", "[general]\nresolution = 512\n\"evil\\u001b]0;title\\u0007\" = 1\n");
        var run = BoundedNtrain.Run(["dataset", "inspect", config], Bound);
        Assert.DoesNotContain('\u001b', run.Stdout + run.Stderr);
        Assert.DoesNotContain('\u0007', run.Stdout + run.Stderr);
        Assert.Contains("evil\\x1b]0;title\\x07", run.Stdout);
    }

    [Fact]
    public async Task The_pruning_page_answers_null_fields_with_400_and_refuses_foreign_host_headers()
    {
        using var f = new CurationTestFolder(("a", "cat, dog"));
        await using var server = await PruningServer.StartAsync(f.Path);
        using var http = new HttpClient { BaseAddress = new Uri(server.Url.GetLeftPart(UriPartial.Authority)) };
        http.DefaultRequestHeaders.Add("X-Ntrain-Token", server.Token);

        foreach (var (route, body) in new (string, object)[] { ("/api/prune", new { tag = (string?)null }), ("/api/replace", new { tag = "cat", with = (string?)null }),
                     ("/api/merge", new { tags = new string?[] { "cat", null }, into = "x" }), ("/api/image", new { name = (string?)null }) })
        {
            var response = await http.PostAsync(route, JsonContent.Create(body));
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            Assert.Contains("the request has no", await response.Content.ReadAsStringAsync());
        }
        Assert.Equal("cat, dog", f.Read("a"));

        using var rebound = new HttpRequestMessage(HttpMethod.Get, "/api/state");
        rebound.Headers.Host = $"attacker.example:{server.Url.Port}";
        Assert.Equal(HttpStatusCode.MisdirectedRequest, (await http.SendAsync(rebound)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/api/state")).StatusCode);
    }
}
