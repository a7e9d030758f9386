using System.Diagnostics;
using System.Text.Json.Nodes;
using static NotebookTrainer.Tests.Runner.RunnerWorkspace;

namespace NotebookTrainer.Tests.Build;

/// <summary>The dev container VS Code users open: valid, GPU optional, the extensions' defaults, the README's install step.</summary>
public sealed class DevContainerTests
{
    static readonly string ConfigPath = Path.Combine(RepositoryRoot, ".devcontainer.json");
    static readonly string SchemaPath = Path.Combine(RepositoryRoot, "tests", "fixtures", "schemas", "devContainer.base.schema.json");

    static JsonObject Config() => (JsonObject)JsonNode.Parse(File.ReadAllText(ConfigPath))!;

    [Fact]
    public void The_file_is_valid_against_the_dev_container_schema() =>
        Assert.Equal("", SchemaErrors(File.ReadAllText(ConfigPath)));

    [Fact]
    public void The_schema_check_rejects_what_the_spec_does_not_allow()
    {
        var config = Config();
        config["hostRequirements"]!["gpu"] = "sometimes";
        config["runArg"] = new JsonArray("--gpus", "all");
        var errors = SchemaErrors(config.ToJsonString());
        Assert.Contains("'sometimes'", errors);
        Assert.Contains("'runArg'", errors);
    }

    /// <summary>
    /// <c>--gpus all</c> fails on hosts without the NVIDIA container runtime; with <c>gpu: "optional"</c> the dev
    /// container tools add it themselves where a GPU exists.
    /// </summary>
    [Fact]
    public void A_gpu_is_used_where_the_host_has_one_and_not_required()
    {
        var config = Config();
        Assert.Equal("optional", config["hostRequirements"]!["gpu"]!.GetValue<string>());
        var runArgs = config["runArgs"]?.AsArray().Select(a => a!.GetValue<string>()) ?? [];
        Assert.DoesNotContain(runArgs, a => a.StartsWith("--gpus", StringComparison.Ordinal));
    }

    [Fact]
    public void The_polyglot_extension_keeps_its_default_kernel_settings()
    {
        var settings = Config()["customizations"]!["vscode"]!["settings"]?.AsObject() ?? [];
        Assert.DoesNotContain(settings, s => s.Key.StartsWith("dotnet-interactive.", StringComparison.Ordinal) || s.Key.StartsWith("polyglot-notebook.", StringComparison.Ordinal));
        Assert.Contains("ms-dotnettools.dotnet-interactive-vscode", Config()["customizations"]!["vscode"]!["extensions"]!.AsArray().Select(e => e!.GetValue<string>()));
    }

    [Fact]
    public void Creating_the_container_runs_the_install_step_of_the_readmes_test_command()
    {
        var postCreate = Config()["postCreateCommand"]!.GetValue<string>();
        Assert.StartsWith("build/install-deps.sh && ", postCreate);
        Assert.Contains("build/install-deps.sh", File.ReadAllText(Path.Combine(RepositoryRoot, "build", "test.sh")));
        Assert.Contains("build/test.sh", File.ReadAllText(Path.Combine(RepositoryRoot, ".ci", "run")));
    }

    /// <summary>Validates with Debian's python3-jsonschema (nbformat's own validator), draft 2019-09 as the schema declares.</summary>
    static string SchemaErrors(string configJson)
    {
        const string python = "/usr/bin/python3";
        Assert.True(File.Exists(python), $"{python} is missing: run build/install-deps.sh.");
        var start = new ProcessStartInfo(python) { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add("""
            import json, sys, jsonschema
            schema = json.load(open(sys.argv[1]))
            jsonschema.Draft201909Validator.check_schema(schema)
            for error in jsonschema.Draft201909Validator(schema).iter_errors(json.load(sys.stdin)):
                print("/".join(map(str, error.absolute_path)) + ": " + error.message)
            """);
        start.ArgumentList.Add(SchemaPath);
        using var process = Process.Start(start)!;
        process.StandardInput.Write(configJson);
        process.StandardInput.Close();
        var stderr = process.StandardError.ReadToEndAsync();
        var stdout = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, $"schema validation did not run (python3-jsonschema comes with python3-nbformat: run build/install-deps.sh):\n{stderr.Result}");
        return stdout.Trim();
    }
}
