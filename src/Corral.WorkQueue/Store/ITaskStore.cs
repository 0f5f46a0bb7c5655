using System.Text.Json.Serialization;
using Corral.WorkQueue.Config;

namespace Corral.WorkQueue.Store;

/// <summary>Where a task is: waiting for a worker, running under a lease, or final.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<TaskState>))]
public enum TaskState
{
    [JsonStringEnumMemberName("waiting")] Waiting,
    [JsonStringEnumMemberName("running")] Running,
    [JsonStringEnumMemberName("passed")] Passed,

    /// <summary>Failed at least once, then passed: counts as passed.</summary>
    [JsonStringEnumMemberName("flaky")] Flaky,
    [JsonStringEnumMemberName("failed")] Failed,
    [JsonStringEnumMemberName("error")] Error,
    [JsonStringEnumMemberName("timed-out")] TimedOut,

    /// <summary>Never run: its browser is missing on this machine (final from the start; does not fail the run).</summary>
    [JsonStringEnumMemberName("skipped")] Skipped,
}

/// <summary>How one attempt ended: the command exited 0 (passed) or 1 (failed), anything else (error), or ran past its timeout.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<AttemptResult>))]
public enum AttemptResult
{
    [JsonStringEnumMemberName("passed")] Passed,
    [JsonStringEnumMemberName("failed")] Failed,
    [JsonStringEnumMemberName("error")] Error,
    [JsonStringEnumMemberName("timed-out")] TimedOut,
}

/// <summary>The queue's rules, the same for both stores.</summary>
public sealed record QueueRules
{
    /// <summary>How many times a task that did not pass runs again.</summary>
    public int Retries { get; init; } = 2;

    /// <summary>After this many expired leases the task is final as <c>error</c> (a spec that kills its worker every time).</summary>
    public int MaxLostLeases { get; init; } = WorkQueueConfig.MaxLostLeases;

    public TimeSpan Lease { get; init; } = TimeSpan.FromSeconds(30);
}

/// <summary>A task handed to a worker: which attempt it is and until when the lease lasts.</summary>
public sealed record Claim(TaskDefinition Task, int Attempt, long LeaseExpiresMs);

/// <summary>A waiting task as a batched claim sees it, in claim order: its attempts so far and its expected duration (null without history).</summary>
public sealed record WaitingTask(TaskDefinition Task, int Attempt, long? ExpectedMs);

/// <summary>A running task as a batched claim sees it: who holds it, since when, and its expected duration.</summary>
public sealed record RunningTask(string Worker, long StartedMs, long? ExpectedMs);

/// <summary>
/// Decides which waiting tasks one claim takes together (a batch one runner invocation runs). It runs inside the claim's
/// transition (or, on Redis, on a snapshot the claim then checks), so it must be a pure function of what it is given.
/// </summary>
public interface IClaimBatching
{
    /// <summary>Indexes into <paramref name="waiting"/> (claim order) to claim at once; the first, index 0, is always taken.</summary>
    IReadOnlyList<int> Choose(IReadOnlyList<WaitingTask> waiting, IReadOnlyList<RunningTask> running, long nowMs);
}

/// <summary>A worker's report of one attempt.</summary>
public sealed record Completion
{
    public required string Key { get; init; }
    public required int Attempt { get; init; }
    public required string Worker { get; init; }
    public required AttemptResult Result { get; init; }
    public int? ExitCode { get; init; }
    public long DurationMs { get; init; }

    /// <summary>The last lines of the command's output (the whole output is in the run's log folder).</summary>
    public string OutputTail { get; init; } = "";
}

/// <summary>What a report did: recorded; a repeat of one already recorded (idempotent); or refused (the reporter does not hold the lease).</summary>
public enum ReportOutcome
{
    Recorded,
    Duplicate,
    Refused,
}

/// <summary>One task as the store has it now.</summary>
public sealed record QueuedTask
{
    public required TaskDefinition Task { get; init; }
    public required TaskState State { get; init; }

    /// <summary>Claims so far (every claim is an attempt, also one whose lease was lost).</summary>
    public int Attempt { get; init; }

    public int Failures { get; init; }
    public int LostLeases { get; init; }

    /// <summary>The lease holder while running; afterwards the worker of the last attempt.</summary>
    public string? Worker { get; init; }

    public long? LeaseExpiresMs { get; init; }
    public int? ExitCode { get; init; }
    public long? DurationMs { get; init; }
    public string? OutputTail { get; init; }

    /// <summary>The duration earlier runs predict for this spec, browser and viewport; null without history.</summary>
    public long? ExpectedMs { get; init; }

    /// <summary>When the current (or last) attempt started and, once final, when the task ended.</summary>
    public long? StartedMs { get; init; }

    public long? EndedMs { get; init; }

    public bool IsFinal => State is not (TaskState.Waiting or TaskState.Running);
}

/// <summary>One recorded attempt of a task.</summary>
public sealed record AttemptRecord(string Key, int Attempt, string Worker, AttemptResult Result, int? ExitCode, long DurationMs, long EndedMs);

/// <summary>
/// The queue of one run, kept in a store that outlives runs. Every method is one atomic transition; time is passed in
/// (milliseconds since the Unix epoch), so the rules replay exactly under a fake clock.
/// </summary>
public interface ITaskStore : IAsyncDisposable
{
    /// <summary>Enqueues the run's tasks ordered longest expected first (file order without history); false, and nothing changed, when the run already exists (a resume).</summary>
    Task<bool> EnqueueAsync(IReadOnlyList<TaskDefinition> tasks, long nowMs);

    /// <summary>Puts expired leases back, then moves the first waiting task to running under <paramref name="worker"/>'s lease; null when none waits.</summary>
    Task<Claim?> ClaimAsync(string worker, long nowMs);

    /// <summary>
    /// Puts expired leases back, then moves the first waiting task and the others <paramref name="batching"/> chooses to
    /// running under <paramref name="worker"/>'s leases, in one atomic transition; empty when none waits.
    /// </summary>
    Task<IReadOnlyList<Claim>> ClaimBatchAsync(string worker, long nowMs, IClaimBatching batching);

    /// <summary>Extends the lease; false when <paramref name="worker"/> no longer holds it for <paramref name="attempt"/>.</summary>
    Task<bool> HeartbeatAsync(string key, int attempt, string worker, long nowMs);

    /// <summary>Records an attempt's result if its worker still holds the lease; a failure goes back to waiting while retries remain.</summary>
    Task<ReportOutcome> CompleteAsync(Completion completion, long nowMs);

    /// <summary>Puts every expired lease back (or makes the task final as <c>error</c> after too many); returns the keys it touched.</summary>
    Task<IReadOnlyList<string>> ExpireAsync(long nowMs);

    /// <summary>Every task of the run, in file order.</summary>
    Task<IReadOnlyList<QueuedTask>> ListAsync();

    /// <summary>Every recorded attempt of the run.</summary>
    Task<IReadOnlyList<AttemptRecord>> AttemptsAsync();
}

/// <summary>Rules both stores share, so they cannot drift apart.</summary>
internal static class QueueOrder
{
    /// <summary>
    /// The claim order: tasks without history first (nothing says they are short), then longest expected duration first
    /// (so the longest do not start last and stretch the run), ties in file order.
    /// </summary>
    public static IReadOnlyList<(TaskDefinition Task, long? Expected)> Rank(IReadOnlyList<TaskDefinition> tasks, Func<TaskDefinition, long?> expected) =>
        tasks.Select(t => (Task: t, Expected: expected(t)))
            .OrderBy(t => t.Expected is null ? 0 : 1)
            .ThenByDescending(t => t.Expected ?? 0)
            .ThenBy(t => t.Task.Ordinal)
            .ToArray();

    /// <summary>The state a task ends in when an attempt that did not pass leaves no retry, or null while one remains.</summary>
    public static TaskState? FinalAfterFailure(AttemptResult result, int failures, int retries) =>
        failures <= retries ? null : result switch
        {
            AttemptResult.Failed => TaskState.Failed,
            AttemptResult.TimedOut => TaskState.TimedOut,
            _ => TaskState.Error,
        };

    /// <summary>A chooser's answer made safe: the head (index 0) first, each index once, none out of range, in claim order.</summary>
    public static IReadOnlyList<int> Chosen(IReadOnlyList<int> chosen, int waiting) =>
        chosen.Where(i => i > 0 && i < waiting).Distinct().Order().Prepend(0).ToArray();

    /// <summary>Remembered durations move halfway towards each new one, so one odd run does not decide the order.</summary>
    public static double NextExpected(double? previous, long duration) => previous is { } p ? (p + duration) / 2 : duration;
}
