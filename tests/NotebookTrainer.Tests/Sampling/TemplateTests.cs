using NotebookTrainer.Sampling;

namespace NotebookTrainer.Tests.Sampling;

public class TemplateTests
{
    [Fact]
    public void SamplePromptsTemplateParsesWithoutWarnings()
    {
        var path = Path.Combine(NotebookTrainer.Tests.Runner.RunnerWorkspace.RepositoryRoot, "data-templates", "sample_prompts.txt");
        var file = SamplePromptFile.Load(Path.GetFullPath(path));
        Assert.Equal(4, file.Prompts.Count);
        Assert.Empty(file.Warnings);
        Assert.All(file.Prompts, p => Assert.StartsWith("sks, ", p.Prompt));
        Assert.Equal(["euler_a", "dpmsolver++", "ddim", "k_euler"], file.Prompts.Select(p => p.Sampler));
    }
}
