using System.Xml.Linq;
using Corral.WorkQueue.Controller;
using Corral.WorkQueue.Store;

namespace Corral.WorkQueue.Tests.Controller;

public sealed class ResultsWriterTests
{
    private static ResultsDocument Failed(string output) => new("run-1", new ProgressView { Total = 1, Done = 1, Failed = 1, Finished = true },
    [
        new TaskView
        {
            Key = "g/a.spec.ts/desktop/chrome", Group = "g", Spec = "a.spec.ts", Viewport = "desktop", Browser = "chrome",
            Status = "complete", Result = "failed", State = TaskState.Failed, Attempts = 1, ExitCode = 1, OutputTail = output,
        },
    ]);

    [Fact]
    public void A_failing_specs_ANSI_colours_and_control_characters_still_give_valid_junit_xml_with_its_message()
    {
        const string output = "\u001b[31m✘ expected 1, got 2\u001b[0m\u0000\u0007 then \uD800 alone; 🐎 stays";

        var junit = ResultsWriter.JUnit(Failed(output), []);

        var failure = XDocument.Parse(junit).Descendants("failure").Single();
        Assert.Equal("✘ expected 1, got 2\uFFFD\uFFFD then \uFFFD alone; 🐎 stays", failure.Value);
    }

    [Fact]
    public void Results_with_control_characters_are_written_to_disk_as_both_files()
    {
        using var folder = new TempFolder();

        var (junit, json) = ResultsWriter.Write(folder.Path, Failed("\u001b[1mbold\u001b[22m \u0001"), []);

        Assert.Contains("bold", XDocument.Load(junit).Descendants("failure").Single().Value);
        Assert.True(new FileInfo(json).Length > 0);
    }
}
