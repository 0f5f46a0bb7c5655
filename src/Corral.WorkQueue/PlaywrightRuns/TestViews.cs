namespace Corral.WorkQueue.PlaywrightRuns;

/// <summary>A file Playwright kept for a test (screenshot, trace, video), served by the reporter under <c>/artifacts/</c>.</summary>
public sealed record ArtifactView(string Name, string ContentType, string Url);

/// <summary>How one Playwright test went in one attempt of its task.</summary>
public sealed record TestAttemptView(int Attempt, string Status, long DurationMs, string? Error, IReadOnlyList<ArtifactView> Artifacts);

/// <summary>
/// One Playwright test of a task: its status in the task's last attempt (<c>flaky</c> when an earlier attempt failed
/// it), the failure message, and every attempt that ran it.
/// </summary>
public sealed record TestView
{
    public required string File { get; init; }
    public required string Project { get; init; }

    /// <summary>The describe blocks and the test's title, joined by <c> › </c> as Playwright prints them.</summary>
    public required string Title { get; init; }

    public int Line { get; init; }

    /// <summary><c>passed</c>, <c>flaky</c>, <c>failed</c>, <c>timed-out</c>, <c>skipped</c> or <c>interrupted</c>.</summary>
    public required string Status { get; init; }

    public long DurationMs { get; init; }
    public string? Error { get; init; }
    public IReadOnlyList<TestAttemptView> Attempts { get; init; } = [];

    public bool Failed => Status is "failed" or "timed-out" or "interrupted";
}
