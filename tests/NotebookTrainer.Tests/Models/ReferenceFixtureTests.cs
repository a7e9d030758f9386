using System.Text.Json;
using NotebookTrainer.Models;
using NotebookTrainer.SafeTensors;
using NotebookTrainer.Tests.Runner;
using static TorchSharp.torch;

namespace NotebookTrainer.Tests.Models;

/// <summary>
/// Our modules against outputs of the reference implementation (diffusers 0.21.4, transformers 4.27.1), stored in
/// tests/fixtures/reference; its README says how they were made.
/// </summary>
public sealed class ReferenceFixtureTests : IDisposable
{
    static readonly string ReferenceFixtures = Path.Combine(RunnerWorkspace.RepositoryRoot, "tests", "fixtures", "reference");

    readonly string _dir = Directory.CreateTempSubdirectory("ntrain-reference").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    static string[] CommittedNames() =>
        Directory.GetDirectories(ReferenceFixtures).Where(d => File.Exists(Path.Combine(d, ModelVerifier.FixtureFile))).Select(d => Path.GetFileName(d)).Order().ToArray();

    public static TheoryData<string> CommittedFixtures() => new(CommittedNames());

    static VerificationReport Verify(string fixture) => ModelVerifier.Run(fixture, (model, config) => StableDiffusion.Load(model, config, ScalarType.Float32));

    static string Describe(VerificationReport report) =>
        string.Join("; ", report.Checks.Select(c => $"{c.Name} {(c.Passed ? "pass" : "FAIL")} max abs {c.MaxAbsError:G3} max rel {c.MaxRelError:G3}"));

    [Fact]
    public void TheSd1FolderTheSd2SingleFileTheEpsProbeAndBothSdxlLayoutsAreCommitted() =>
        Assert.Equal(new[] { "sd1-folder", "sd1-ldm-eps-probe", "sd2-ldm", "sdxl-folder", "sdxl-sgm" }, CommittedNames());

    [Theory]
    [MemberData(nameof(CommittedFixtures))]
    public void EveryReferenceCheckPasses(string name)
    {
        var fixture = Path.Combine(ReferenceFixtures, name);
        using var spec = JsonDocument.Parse(File.ReadAllText(Path.Combine(fixture, ModelVerifier.FixtureFile)));
        var report = Verify(fixture);
        Assert.Equal(spec.RootElement.GetProperty("checks").GetArrayLength(), report.Checks.Count);
        Assert.True(report.Passed, Describe(report));
    }

    [Fact]
    public void OneWrongElementInAnExpectedTensorFailsThatCheckOnly()
    {
        var fixture = Path.Combine(_dir, "sd1-folder");
        CopyDirectory(Path.Combine(ReferenceFixtures, "sd1-folder"), fixture);
        var expectedPath = Path.Combine(fixture, "expected.safetensors");
        Dictionary<string, Tensor> expected;
        using (var file = SafeTensorsFile.Open(expectedPath))
            expected = file.Names.ToDictionary(n => n, n => file.Load(n).clone());
        var target = expected["unet.t500-t0.out"];
        target[1, 2, 3, 4] = target[1, 2, 3, 4] + 0.01f;
        SafeTensorsWriter.Write(expectedPath, expected);

        var report = Verify(fixture);
        var broken = report.Checks.Single(c => c.Name == "unet-t500-t0");
        Assert.False(broken.Passed);
        Assert.InRange(broken.MaxAbsError, 0.009, 0.011);
        Assert.All(report.Checks.Where(c => c != broken), c => Assert.True(c.Passed, Describe(report)));
        Assert.False(report.Passed);
    }

    [Fact]
    public void A_wrong_pooled_embedding_fails_only_its_SDXL_check()
    {
        var fixture = Path.Combine(_dir, "sdxl-sgm");
        CopyDirectory(Path.Combine(ReferenceFixtures, "sdxl-sgm"), fixture);
        var expectedPath = Path.Combine(fixture, "expected.safetensors");
        Dictionary<string, Tensor> expected;
        using (var file = SafeTensorsFile.Open(expectedPath))
            expected = file.Names.ToDictionary(n => n, n => file.Load(n).clone());
        expected["text2.embeds"][1, 3] = expected["text2.embeds"][1, 3] - 0.01f;
        SafeTensorsWriter.Write(expectedPath, expected);

        var report = Verify(fixture);
        Assert.Equal(["text2-embeds"], report.Checks.Where(c => !c.Passed).Select(c => c.Name));
    }

    [Fact]
    public void Malformed_SDXL_checks_name_the_check_and_what_it_lacks()
    {
        var fixture = Path.Combine(_dir, "sdxl-sgm");
        CopyDirectory(Path.Combine(ReferenceFixtures, "sdxl-sgm"), fixture);
        var json = Path.Combine(fixture, ModelVerifier.FixtureFile);
        var original = File.ReadAllText(json);
        string Error(string fixtureJson, string dir)
        {
            File.WriteAllText(Path.Combine(dir, ModelVerifier.FixtureFile), fixtureJson);
            return Assert.Throws<FixtureException>(() => Verify(dir)).Message;
        }
        Assert.Contains("check 'unet-t999-t1': this SDXL U-Net needs inputs \"added_cond_kwargs.text_embeds\"",
            Error(original.Replace("\"added_cond_kwargs.text_embeds\": \"unet.text_embeds\",", ""), fixture));
        Assert.Contains("check 'text-hidden-2' component text_encoder.hidden_states needs \"layer\"", Error(original.Replace("\"layer\": -2", "\"note\": 0"), fixture));
        Assert.Contains("layer -9 is outside hidden_states", Error(original.Replace("\"layer\": -2", "\"layer\": -9"), fixture));

        var sd1 = Path.Combine(_dir, "sd1-folder");
        CopyDirectory(Path.Combine(ReferenceFixtures, "sd1-folder"), sd1);
        var sd1Json = File.ReadAllText(Path.Combine(sd1, ModelVerifier.FixtureFile)).Replace("\"component\": \"text_encoder\"", "\"component\": \"text_encoder_2.text_embeds\"");
        Assert.Contains("only SDXL models have", Error(sd1Json, sd1));
    }

    static void CopyDirectory(string source, string destination)
    {
        foreach (var dir in Directory.GetDirectories(source, "*", SearchOption.AllDirectories))
            Directory.CreateDirectory(Path.Combine(destination, Path.GetRelativePath(source, dir)));
        Directory.CreateDirectory(destination);
        foreach (var file in Directory.GetFiles(source, "*", SearchOption.AllDirectories))
            File.Copy(file, Path.Combine(destination, Path.GetRelativePath(source, file)));
    }
}
