using System.Xml.Linq;
using Corral.WorkQueue.Controller;
using Corral.WorkQueue.PlaywrightRuns;
using Corral.WorkQueue.Store;

namespace Corral.WorkQueue.Tests.PlaywrightReports;

/// <summary>Playwright's JSON reports read into per-test results, JUnit testcases and reporter links.</summary>
public sealed class PlaywrightResultsTests : IDisposable
{
    private const string Key = "task:search:5";
    private readonly TempFolder _run = new();

    private void WriteAttempt(int attempt, bool fails)
    {
        var folder = AttemptFolder.Path(_run.Path, Key, attempt);
        var output = Path.Combine(folder, AttemptFolder.OutputFolder);
        Directory.CreateDirectory(Path.Combine(output, "kids-filters"));
        File.WriteAllText(Path.Combine(output, "kids-filters", "test-failed-1.png"), "png");
        File.WriteAllText(Path.Combine(folder, AttemptFolder.ReportFile), PlaywrightReportFixtures.Report(output, fails));
    }

    [Fact]
    public void A_report_gives_every_test_with_its_describe_path_status_and_uncoloured_error()
    {
        WriteAttempt(1, fails: true);

        var tests = PlaywrightReport.Read(AttemptFolder.Report(_run.Path, Key, 1))!;

        Assert.Equal(["loads the page", "kids clothing search › filters by size and colour", "kids clothing search › is skipped"], tests.Select(t => t.Title));
        Assert.Equal(["passed", "failed", "skipped"], tests.Select(t => t.Status));
        Assert.All(tests, t => Assert.Equal("mobile-chrome", t.Project));
        Assert.Equal("expect(locator).toHaveCount(2) failed\n\nExpected: 2\nReceived: 0", tests[1].Error);
        Assert.Equal(1200, tests[0].DurationMs);
    }

    [Fact]
    public void A_half_written_report_is_no_report()
    {
        Directory.CreateDirectory(AttemptFolder.Path(_run.Path, Key, 1));
        File.WriteAllText(AttemptFolder.Report(_run.Path, Key, 1), "{\"suites\": [{\"title\": ");

        Assert.Null(PlaywrightReport.Read(AttemptFolder.Report(_run.Path, Key, 1)));
        Assert.Empty(TaskTests.Read(_run.Path, Key, 1));
    }

    [Fact]
    public void A_test_that_failed_on_attempt_1_and_passed_on_attempt_2_is_flaky_with_both_attempts_and_the_first_ones_links()
    {
        WriteAttempt(1, fails: true);
        WriteAttempt(2, fails: false);

        var test = TaskTests.Read(_run.Path, Key, 2).Single(t => t.Title.EndsWith("filters by size and colour", StringComparison.Ordinal));

        Assert.Equal("flaky", test.Status);
        Assert.Equal([(1, "failed"), (2, "passed")], test.Attempts.Select(a => (a.Attempt, a.Status)));
        // The screenshot and the trace are under the run's tasks folder; /etc/passwd is not linked.
        Assert.Equal(["screenshot", "trace"], test.Attempts[0].Artifacts.Select(a => a.Name));
        Assert.Equal("/artifacts/tasks/task_search_5.attempt-1/output/kids-filters/test-failed-1.png", test.Attempts[0].Artifacts[0].Url);
    }

    [Fact]
    public void A_task_whose_last_attempt_left_no_report_is_reported_as_a_whole()
    {
        WriteAttempt(1, fails: true);

        Assert.Empty(TaskTests.Read(_run.Path, Key, 2));
    }

    [Fact]
    public void JUnit_has_a_testsuite_per_playwright_task_with_a_testcase_per_test_and_the_assertion_as_failure()
    {
        WriteAttempt(1, fails: true);
        var task = new TaskView
        {
            Key = Key, Group = "search", Spec = "tests/kids_clothing_search.spec.ts", Viewport = "mobile", Browser = "chrome",
            Status = "complete", Result = "failed", State = TaskState.Failed, Attempts = 1, ExitCode = 1, OutputTail = "1 failed",
        };
        var skipped = ResultsView.Row(new Corral.WorkQueue.Config.SkippedTask(
            new Corral.WorkQueue.Config.TaskDefinition { Key = "task:search:6", Group = "search", Index = 6, Ordinal = 6, Spec = "tests/kids_clothing_search.spec.ts", Viewport = "mobile", Browser = "webkit" },
            "webkit is missing: not installed; remedy: npx playwright install webkit"));
        var document = new ResultsDocument("run-1", new ProgressView { Total = 2, Done = 2, Failed = 1, Skipped = 1, Finished = true }, [task, skipped]);

        var junit = XDocument.Parse(ResultsWriter.JUnit(document, [], new Dictionary<string, IReadOnlyList<TestView>>
        {
            [Key] = TaskTests.Read(_run.Path, Key, 1),
            ["task:search:6"] = [],
        }));

        var suite = junit.Descendants("testsuite").Single(s => (string?)s.Attribute("name") == "tests/kids_clothing_search.spec.ts [mobile-chrome]");
        Assert.Equal(3, suite.Elements("testcase").Count());
        var failure = suite.Descendants("failure").Single();
        Assert.Equal("expect(locator).toHaveCount(2) failed", (string?)failure.Attribute("message"));
        Assert.Contains("Received: 0", failure.Value);
        Assert.Single(suite.Elements("testcase"), c => c.Element("skipped") is not null);
        var skippedCase = junit.Descendants("testcase").Single(c => ((string?)c.Attribute("name"))!.Contains("mobile-webkit", StringComparison.Ordinal));
        Assert.Contains("npx playwright install webkit", (string?)skippedCase.Element("skipped")!.Attribute("message"));
        var root = junit.Root!;
        Assert.Equal(("4", "1", "2"), ((string?)root.Attribute("tests"), (string?)root.Attribute("failures"), (string?)root.Attribute("skipped")));
    }

    [Fact]
    public void Artifacts_are_served_only_from_the_runs_tasks_folder_and_never_through_a_link()
    {
        WriteAttempt(1, fails: true);
        File.WriteAllText(_run.Combine("control.json"), "secret");
        Directory.CreateSymbolicLink(_run.Combine("tasks", "escape"), _run.Path);

        Assert.NotNull(ArtifactFiles.Resolve(_run.Path, "tasks/task_search_5.attempt-1/output/kids-filters/test-failed-1.png"));
        Assert.Null(ArtifactFiles.Resolve(_run.Path, "control.json"));
        Assert.Null(ArtifactFiles.Resolve(_run.Path, "tasks/../control.json"));
        Assert.Null(ArtifactFiles.Resolve(_run.Path, "/etc/passwd"));
        Assert.Null(ArtifactFiles.Resolve(_run.Path, "tasks/escape/control.json"));
        Assert.Null(ArtifactFiles.Resolve(_run.Path, "tasks/task_search_5.attempt-1/output/kids-filters"));
    }

    [Fact]
    public void A_playwright_command_gets_the_json_reporter_and_the_attempts_output_folder_and_keeps_its_own_choices()
    {
        var folder = "/run/tasks/task_a_0.attempt-1";

        Assert.Equal(["npx", "playwright", "test", "a.spec.ts", "--add-reporter=json", $"--output={folder}/output"],
            PlaywrightAttempt.Arguments(["npx", "playwright", "test", "a.spec.ts"], folder, addReporterKnown: true));
        Assert.Equal(["npx", "playwright", "test", "--reporter=dot,json", "--output=x", $"a.spec.ts"],
            PlaywrightAttempt.Arguments(["npx", "playwright", "test", "--reporter=dot", "--output=x", "a.spec.ts"], folder, addReporterKnown: true));
        Assert.Equal(["npx", "playwright", "test", "--reporter=list,json", $"--output={folder}/output"],
            PlaywrightAttempt.Arguments(["npx", "playwright", "test"], folder, addReporterKnown: false));
        Assert.Equal(["sh", "run-spec.sh", "a.spec"], PlaywrightAttempt.Arguments(["sh", "run-spec.sh", "a.spec"], folder, addReporterKnown: true));
    }

    public void Dispose() => _run.Dispose();
}
