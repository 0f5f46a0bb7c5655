using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using System.Xml.Linq;

namespace Corral.EndToEnd.Tests.WorkQueue;

/// <summary>
/// The example Playwright suite (examples/playwright/) run for real by the native binary, in Debian's chromium: per-test
/// JUnit, a flaky spec, browsers that are not installed here, and a failing variant whose trace and screenshot the
/// reporter serves after the run (corral report). Few tasks, to keep the suite short.
/// </summary>
[Collection(EndToEnd.Collection)]
public sealed partial class PlaywrightRunTests
{
    private static readonly TimeSpan RunTimeout = TimeSpan.FromMinutes(4);

    /// <summary>
    /// Both variants at once (they share only the example folder, whose <c>prepare</c> the passing run does or skips
    /// before the failing run starts), so the two cost about one run's time.
    /// </summary>
    [Fact]
    public async Task The_example_suite_passes_and_its_failing_variant_fails_with_its_artifacts_served_both_run_side_by_side()
    {
        var prepared = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var passing = PassingRunAsync(prepared);
        await prepared.Task;
        await Task.WhenAll(passing, FailingRunAsync());
    }

    /// <summary>
    /// Every chromium test in JUnit, the flaky spec flaky with both attempts (its first in one Playwright invocation with
    /// the other chromium task, its retry alone), firefox and webkit skipped.
    /// </summary>
    private static async Task PassingRunAsync(TaskCompletionSource prepared)
    {
        using var folder = new TempFolder("corral-pw-e2e-");
        // The example topology itself, with a shorter spec list through the original's GROUP_TASKS_FILE: two chromium
        // tasks of one project (one flaky by attempt), batched by the one worker, and two whose browsers Playwright
        // cannot find here.
        var specs = folder.Write("spec_context_map.json", """
            {"groups": [
              {"name": "search", "tasks": [
                {"spec": "tests/kids_clothing_search.spec.ts", "viewports": ["mobile"], "browsers": ["chrome", "webkit"]},
                {"spec": "tests/album_label_search.spec.ts", "viewports": ["mobile"], "browsers": ["chrome"]},
                {"spec": "tests/album_label_search.spec.ts", "viewports": ["desktop"], "browsers": ["firefox"]}]}]}
            """);
        var environment = new Dictionary<string, string>
        {
            ["GROUP_TASKS_FILE"] = specs,
            ["SPEC_ROOT"] = CorralBinary.Example("playwright"),
            ["PLAYWRIGHT_BROWSERS_PATH"] = Directory.CreateDirectory(folder.Combine("no-browsers")).FullName,
        };
        await using var corral = CorralProcess.Start(folder.Path, environment,
            "up", CorralBinary.Example("playwright.yaml"), "--set", "workers=1", "--ports", "dynamic", "--no-dashboard", "--data", folder.Combine("data"), "--grace", "3s");
        try
        {
            await corral.WaitForLineAsync(l => l.Contains("prepare: npm ci", StringComparison.Ordinal) && (l.Contains(" skipped", StringComparison.Ordinal) || l.Contains(" done in ", StringComparison.Ordinal)),
                RunTimeout, "the prepare step's end");
        }
        finally
        {
            prepared.TrySetResult();
        }

        Assert.Equal(0, await corral.WaitForExitAsync(RunTimeout));

        Assert.Contains(corral.Lines, l => l.Contains("GROUP_TASKS_FILE is set", StringComparison.Ordinal));
        Assert.Contains(corral.Lines, l => l.Contains("prepare: npm ci", StringComparison.Ordinal));
        Assert.Contains(corral.Lines, l => l.Contains("2 skipped", StringComparison.Ordinal));
        var runFolder = RunFolder().Match(corral.Output).Groups[1].Value;
        var junit = XDocument.Load(Path.Combine(runFolder, "results", "junit.xml"));
        var suites = junit.Descendants("testsuite").ToDictionary(s => (string)s.Attribute("name")!);
        // Every Playwright test of every chromium task, one testcase each.
        Assert.Equal(["kids clothing search › adds a filtered item to the cart", "kids clothing search › filters by size and colour"],
            TestNames(suites["tests/kids_clothing_search.spec.ts [mobile-chrome]"]).Order(StringComparer.Ordinal));
        Assert.Equal(3, TestNames(suites["tests/album_label_search.spec.ts [mobile-chrome]"]).Count);
        // The first attempts ran in one invocation (each task keeps its own log and report); the retry ran alone.
        var tasksFolder = Path.Combine(runFolder, "tasks");
        Assert.Contains("ran in one Playwright invocation with task:search:0, task:search:2", File.ReadAllText(Path.Combine(tasksFolder, "task_search_0.attempt-1.log")));
        Assert.Contains("ran in one Playwright invocation", File.ReadAllText(Path.Combine(tasksFolder, "task_search_2.attempt-1.log")));
        Assert.DoesNotContain("ran in one Playwright invocation", File.ReadAllText(Path.Combine(tasksFolder, "task_search_0.attempt-2.log")));
        Assert.Empty(junit.Descendants("failure"));
        // The flaky spec: its first attempt failed the filter test, the second passed it.
        var flaky = suites["tests/kids_clothing_search.spec.ts [mobile-chrome]"].Elements("testcase")
            .Single(c => ((string)c.Attribute("name")!).Contains("filters by size", StringComparison.Ordinal));
        Assert.Matches("^flaky: passed on attempt 2; attempt 1 failed: .*toHaveCount.*; attempt 2 passed$", flaky.Element("system-out")!.Value);
        // webkit and firefox: skipped with the reason and the remedy, in JUnit and results.json.
        var skipped = junit.Descendants("skipped").Select(s => (string?)s.Attribute("message")).OfType<string>().ToArray();
        Assert.Contains(skipped, m => m.StartsWith("webkit is missing", StringComparison.Ordinal) && m.Contains("npx playwright install", StringComparison.Ordinal));
        Assert.Contains(skipped, m => m.StartsWith("firefox is missing", StringComparison.Ordinal));
        using var results = JsonDocument.Parse(File.ReadAllText(Path.Combine(runFolder, "results", "results.json")));
        var tasks = results.RootElement.GetProperty("tasks").EnumerateArray().Select(t => t.GetProperty("task")).ToArray();
        Assert.Equal(["flaky", "skipped", "passed", "skipped"], tasks.Select(t => t.GetProperty("result").GetString()));
        Assert.Equal(2, results.RootElement.GetProperty("progress").GetProperty("skipped").GetInt32());
    }

    /// <summary>The failing variant exits 1 with the assertion in JUnit, and <c>corral report</c> serves its screenshot and trace.</summary>
    private static async Task FailingRunAsync()
    {
        using var folder = new TempFolder("corral-pw-e2e-");
        var data = folder.Combine("data");
        int code;
        string output;
        await using (var corral = CorralProcess.Start(folder.Path,
            "up", CorralBinary.Example("playwright-failing.yaml"), "--ports", "dynamic", "--no-dashboard", "--data", data, "--grace", "3s"))
        {
            code = await corral.WaitForExitAsync(RunTimeout);
            output = corral.Output;
        }

        Assert.Equal(1, code);
        var runFolder = RunFolder().Match(output).Groups[1].Value;
        var failure = XDocument.Load(Path.Combine(runFolder, "results", "junit.xml")).Descendants("failure").Single();
        Assert.Equal("Error: expect(locator).toHaveText(expected) failed", (string?)failure.Attribute("message"));
        Assert.Contains("Expected: \"Total £23\"", failure.Value);

        await using var report = CorralProcess.Start(folder.Path, "report", Path.GetFileName(runFolder), "--data", data, "--port", "0");
        var line = await report.WaitForLineAsync(l => l.StartsWith("report of run ", StringComparison.Ordinal), TimeSpan.FromSeconds(30), "the report's address");
        var baseUrl = new Uri(ReportUrl().Match(line).Groups[1].Value);
        using var http = new HttpClient { BaseAddress = baseUrl, Timeout = TimeSpan.FromSeconds(10) };
        Assert.Contains("Funkytown spec execution results", await http.GetStringAsync("/"));
        using var tests = JsonDocument.Parse(await http.GetStringAsync("/api/tasks/task:checkout:0/tests"));
        var failed = tests.RootElement.EnumerateArray().Single(t => t.GetProperty("status").GetString() == "failed");
        var artifacts = failed.GetProperty("attempts")[0].GetProperty("artifacts").EnumerateArray()
            .ToDictionary(a => a.GetProperty("name").GetString()!, a => a.GetProperty("url").GetString()!);
        using var screenshot = await http.GetAsync(artifacts["screenshot"]);
        Assert.Equal(HttpStatusCode.OK, screenshot.StatusCode);
        Assert.Equal("image/png", screenshot.Content.Headers.ContentType?.MediaType);
        Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G'], (await screenshot.Content.ReadAsByteArrayAsync()).Take(4));
        using var trace = await http.GetAsync(artifacts["trace"]);
        Assert.Equal(HttpStatusCode.OK, trace.StatusCode);
        using var outside = await http.GetAsync("/artifacts/tasks/..%2F..%2Frun.json");
        Assert.Equal(HttpStatusCode.NotFound, outside.StatusCode);
    }

    private static List<string> TestNames(XElement suite) =>
        suite.Elements("testcase").Select(c => Regex.Replace((string)c.Attribute("name")!, @" \[[a-z]+-[a-z]+\]$", "")).ToList();

    [GeneratedRegex(@"folder (\S+)$", RegexOptions.Multiline)]
    private static partial Regex RunFolder();

    [GeneratedRegex(@"(http://\S+/)")]
    private static partial Regex ReportUrl();
}
