using System.Globalization;
using System.Text;
using Corral.WorkQueue.Config;
using Corral.WorkQueue.Store;

namespace Corral.WorkQueue.Controller;

/// <summary>Turns the store's tasks into what the reporter, the API and the outcome show. Pure: the clock is passed in.</summary>
internal static class ResultsView
{
    public static ResultsDocument Build(string runId, IReadOnlyList<QueuedTask> tasks, long startedMs, long nowMs, int workers,
        IReadOnlyList<SkippedTask>? skipped = null)
    {
        // A resumed run may hold a task that was skipped now (its browser went away): the store's record wins.
        var notRun = (skipped ?? []).Where(s => !tasks.Any(t => t.Task.Key == s.Task.Key)).ToArray();
        var rows = tasks.Select(t => (t.Task.Ordinal, Row: Row(t))).Concat(notRun.Select(s => (s.Task.Ordinal, Row: Row(s))))
            .OrderBy(r => r.Ordinal).Select(r => r.Row).ToArray();
        return new(runId, Progress(tasks, startedMs, nowMs, workers) is var p && notRun.Length > 0
            ? p with { Total = p.Total + notRun.Length, Done = p.Done + notRun.Length, Skipped = notRun.Length }
            : p, rows);
    }

    /// <summary>A task skipped because its browser is missing: final, never run.</summary>
    public static TaskView Row(SkippedTask s) => new()
    {
        Key = s.Task.Key,
        Group = s.Task.Group,
        Spec = s.Task.Spec,
        Viewport = s.Task.Viewport,
        Browser = s.Task.Browser,
        Status = "complete",
        Result = "skipped",
        State = TaskState.Skipped,
        Reason = s.Reason,
    };

    public static TaskView Row(QueuedTask t) => new()
    {
        Key = t.Task.Key,
        Group = t.Task.Group,
        Spec = t.Task.Spec,
        Viewport = t.Task.Viewport,
        Browser = t.Task.Browser,
        Status = t.State switch { TaskState.Waiting => "waiting", TaskState.Running => "running", _ => "complete" },
        Result = t.IsFinal ? SqliteTaskStore.StateName(t.State) : "unknown",
        State = t.State,
        Attempts = t.Attempt,
        Worker = t.Worker,
        DurationMs = t.DurationMs,
        Duration = GoDuration(t.IsFinal ? t.DurationMs ?? 0 : 0),
        ExitCode = t.ExitCode,
        ExpectedMs = t.ExpectedMs,
        OutputTail = t.OutputTail,
    };

    public static ProgressView Progress(IReadOnlyList<QueuedTask> tasks, long startedMs, long nowMs, int workers)
    {
        int Count(TaskState s) => tasks.Count(t => t.State == s);
        var done = tasks.Count(t => t.IsFinal);
        var finished = tasks.Count > 0 && done == tasks.Count;
        return new ProgressView
        {
            Total = tasks.Count,
            Done = done,
            Passed = Count(TaskState.Passed),
            Flaky = Count(TaskState.Flaky),
            Failed = Count(TaskState.Failed),
            Errors = Count(TaskState.Error),
            TimedOut = Count(TaskState.TimedOut),
            Running = Count(TaskState.Running),
            Waiting = Count(TaskState.Waiting),
            ElapsedMs = Math.Max(0, nowMs - startedMs),
            EstimatedRemainingMs = finished ? 0 : Remaining(tasks, nowMs, workers),
            Finished = finished,
            AllPassed = finished && tasks.All(t => t.State is TaskState.Passed or TaskState.Flaky),
        };
    }

    /// <summary>
    /// The work left divided among the workers: each waiting task costs what earlier runs predict (or the mean of this
    /// run's finished ones), a running one what is left of that. Null when nothing predicts anything yet.
    /// </summary>
    private static long? Remaining(IReadOnlyList<QueuedTask> tasks, long nowMs, int workers)
    {
        var finished = tasks.Where(t => t.IsFinal && t.DurationMs is not null).Select(t => (double)t.DurationMs!.Value).ToArray();
        double? mean = finished.Length > 0 ? finished.Average() : null;
        double work = 0;
        foreach (var t in tasks.Where(t => !t.IsFinal))
        {
            if ((t.ExpectedMs ?? mean) is not { } cost) return null;
            work += t.State == TaskState.Running && t.StartedMs is { } started ? Math.Max(0, cost - (nowMs - started)) : cost;
        }

        return (long)Math.Ceiling(work / Math.Max(1, workers));
    }

    /// <summary>The original's <c>durationstring</c>: Go's <c>Duration.Truncate(time.Second).String()</c> (<c>0s</c>, <c>7s</c>, <c>1m3s</c>, <c>2h0m5s</c>).</summary>
    public static string GoDuration(long ms)
    {
        var seconds = ms / 1000;
        if (seconds == 0) return "0s";
        var text = new StringBuilder();
        var h = seconds / 3600;
        var m = seconds / 60 % 60;
        var s = seconds % 60;
        if (h > 0) text.Append(h.ToString(CultureInfo.InvariantCulture)).Append('h');
        if (h > 0 || m > 0) text.Append(m.ToString(CultureInfo.InvariantCulture)).Append('m');
        text.Append(s.ToString(CultureInfo.InvariantCulture)).Append('s');
        return text.ToString();
    }
}
