namespace Corral.WorkQueue.PlaywrightRuns;

/// <summary>
/// A task's Playwright tests from the JSON reports its attempts left: each test's status in the last attempt
/// (<c>flaky</c> when it passed there after failing in an earlier one), its failure, and its artifacts as reporter
/// links. Empty when the last attempt left no report (a timeout, a runner that is not Playwright): the task is then
/// reported as a whole.
/// </summary>
internal static class TaskTests
{
    public static IReadOnlyList<TestView> Read(string runDirectory, string key, int lastAttempt)
    {
        if (lastAttempt < 1 || PlaywrightReport.Read(AttemptFolder.Report(runDirectory, key, lastAttempt)) is not { } last) return [];
        var history = new Dictionary<string, List<TestAttemptView>>(StringComparer.Ordinal);
        for (var attempt = 1; attempt <= lastAttempt; attempt++)
        {
            var tests = attempt == lastAttempt ? last : PlaywrightReport.Read(AttemptFolder.Report(runDirectory, key, attempt));
            foreach (var test in tests ?? [])
            {
                if (!history.TryGetValue(Id(test), out var list)) history[Id(test)] = list = [];
                list.Add(new TestAttemptView(attempt, test.Status, test.DurationMs, test.Error, Artifacts(runDirectory, test)));
            }
        }

        return last.Select(test =>
        {
            var attempts = history[Id(test)];
            var flaky = test.Status == "passed" && attempts.Any(a => a.Status is "failed" or "timed-out" or "interrupted" or "flaky");
            return new TestView
            {
                File = test.File,
                Project = test.Project,
                Title = test.Title,
                Line = test.Line,
                Status = flaky ? "flaky" : test.Status,
                DurationMs = test.DurationMs,
                Error = test.Error ?? (flaky ? attempts.LastOrDefault(a => a.Error is not null)?.Error : null),
                Attempts = attempts,
            };
        }).ToArray();
    }

    private static string Id(ReportedTest test) => $"{test.Project}\n{test.File}\n{test.Title}\n{test.Line}";

    private static IReadOnlyList<ArtifactView> Artifacts(string runDirectory, ReportedTest test) =>
        test.Attachments.Select(a => ArtifactFiles.Url(runDirectory, a.Path) is { } url ? new ArtifactView(a.Name, a.ContentType, url) : null)
            .OfType<ArtifactView>().ToArray();
}
