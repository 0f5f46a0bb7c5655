using System.Runtime.Versioning;
using System.Xml.Linq;
using Corral.WorkQueue.Controller;
using Corral.WorkQueue.Store;

namespace Corral.WorkQueue.Tests.Controller;

[UnsupportedOSPlatform("windows")]
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
    public void Each_output_is_cut_to_its_last_64_Ki_characters_in_both_files_and_the_files_are_private()
    {
        using var folder = new TempFolder();
        var output = new string('a', 200_000) + "\u001b[31mthe failure\u0000\u001b[0m";

        var (junit, json) = ResultsWriter.Write(folder.Path, Failed(output), []);

        var failure = XDocument.Load(junit).Descendants("failure").Single().Value;
        Assert.StartsWith("[corral] ", failure);
        Assert.EndsWith("the failure\uFFFD", failure);
        Assert.InRange(failure.Length, 64 * 1024, 64 * 1024 + 64);
        using var results = System.Text.Json.JsonDocument.Parse(File.ReadAllText(json));
        var tail = results.RootElement.GetProperty("tasks")[0].GetProperty("task").GetProperty("outputTail").GetString()!;
        Assert.Equal(failure, tail);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(junit));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(json));
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
