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
        // The sample set's concept on each background, then a seen object the base model already draws.
        Assert.All(file.Prompts.Take(3), p => Assert.StartsWith("sks, ", p.Prompt));
        Assert.DoesNotContain("sks", file.Prompts[3].Prompt);
        Assert.All(file.Prompts, p => Assert.Equal((64, 64), (p.Width, p.Height)));
        Assert.Equal(["ddim", "ddim", "dpmsolver++", "euler_a"], file.Prompts.Select(p => p.Sampler));
    }
}
