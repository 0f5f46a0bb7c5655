using Corral.WorkQueue.Config;
using Corral.WorkQueue.Store;

namespace Corral.WorkQueue.Controller;

/// <summary>The controller's HTTP API for workers (all POST, all with the run's token).</summary>
internal static class QueueRoutes
{
    public const string Claim = "/api/claim";
    public const string Heartbeat = "/api/heartbeat";
    public const string Complete = "/api/complete";
    public const string Results = "/api/results";
    public const string Events = "/api/events";
    public const string Page = "/results";
    public const string Health = "/health";
}

/// <summary>A worker asks for a task.</summary>
public sealed record ClaimRequest(string Worker);

/// <summary>A task to run, or none: then <see cref="RunFinished"/> says whether to leave, and <see cref="RetryAfterMs"/> when to ask again.</summary>
public sealed record ClaimReply(ClaimedTask? Task, bool RunFinished, int RetryAfterMs)
{
    /// <summary>A batched claim's further tasks (each with its own lease), run in one invocation with <see cref="Task"/>; null for one task.</summary>
    public IReadOnlyList<ClaimedTask>? More { get; init; }
}

/// <summary>A claimed task with its attempt number and lease.</summary>
public sealed record ClaimedTask(TaskDefinition Task, int Attempt, long LeaseExpiresMs, string RunId, long HeartbeatMs);

/// <summary>A worker renews its lease on a task.</summary>
public sealed record HeartbeatRequest(string Key, int Attempt, string Worker);

/// <summary>
/// What the controller did with a heartbeat or a report: <c>recorded</c>, <c>duplicate</c>, <c>extended</c> (or, only when
/// the report asked for its next task, <c>refused</c>), and with <c>?next=true</c> the worker's next claim.
/// </summary>
public sealed record ReportReply(string Outcome)
{
    public ClaimReply? Next { get; init; }
}

/// <summary>One row of the reporter: the original's columns (result, status, spec, viewport, browser, duration) plus attempts and worker.</summary>
public sealed record TaskView
{
    public required string Key { get; init; }
    public required string Group { get; init; }
    public required string Spec { get; init; }
    public required string Viewport { get; init; }
    public required string Browser { get; init; }

    /// <summary><c>waiting</c>, <c>running</c> or <c>complete</c>.</summary>
    public required string Status { get; init; }

    /// <summary><c>unknown</c> until final, then <c>passed</c>, <c>flaky</c>, <c>failed</c>, <c>error</c> or <c>timed-out</c>.</summary>
    public required string Result { get; init; }

    public required TaskState State { get; init; }
    public int Attempts { get; init; }
    public string? Worker { get; init; }
    public long? DurationMs { get; init; }
    public string Duration { get; init; } = "0s";
    public int? ExitCode { get; init; }
    public long? ExpectedMs { get; init; }
    public string? OutputTail { get; init; }

    /// <summary>Why a skipped task was not run, with the remedy.</summary>
    public string? Reason { get; init; }
}

/// <summary>The run's progress: counts, elapsed time and the estimated finish.</summary>
public sealed record ProgressView
{
    public int Total { get; init; }
    public int Done { get; init; }
    public int Passed { get; init; }
    public int Flaky { get; init; }
    public int Failed { get; init; }
    public int Errors { get; init; }
    public int TimedOut { get; init; }

    /// <summary>Tasks not run because their browser is missing (final; they do not fail the run).</summary>
    public int Skipped { get; init; }
    public int Running { get; init; }
    public int Waiting { get; init; }
    public long ElapsedMs { get; init; }

    /// <summary>Milliseconds until every task is expected to be final, from the pace so far and earlier runs; null before any estimate.</summary>
    public long? EstimatedRemainingMs { get; init; }

    public bool Finished { get; init; }

    /// <summary>Every task final and none failed (flaky counts as passed).</summary>
    public bool AllPassed { get; init; }
}

/// <summary>What <c>GET /api/results</c> and each server-sent event carry.</summary>
public sealed record ResultsDocument(string RunId, ProgressView Progress, IReadOnlyList<TaskView> Tasks);

/// <summary>The outcome the controller reports to the supervisor.</summary>
public sealed record WorkQueueSummary(string RunId, ProgressView Progress, string JUnit, string ResultsJson, IReadOnlyList<string> NotPassed)
{
    /// <summary>Each missing browser once: how many tasks it skipped, why, and the remedy.</summary>
    public IReadOnlyList<string> SkippedBrowsers { get; init; } = [];
}
