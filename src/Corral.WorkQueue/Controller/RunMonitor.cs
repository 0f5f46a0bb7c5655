using System.Globalization;
using System.Text.Json;
using Corral.Node.Control;
using Corral.Node.Nodes;
using Corral.WorkQueue.Store;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Corral.WorkQueue.Controller;

/// <summary>
/// Follows the run: one line per task that became final, a progress line while it runs, and once every task is final
/// the results files and the <c>finished</c> report (passed when every task passed or was flaky). Each look is published
/// as the <see cref="ResultsSnapshot"/> the reporter's routes serve.
/// </summary>
internal sealed partial class RunMonitor(QueueService queue, ResultsSnapshot snapshot, ControlClient control, NodeContext context, TimeProvider time,
    ILogger<RunMonitor> logger)
    : BackgroundService
{
    private static readonly TimeSpan ProgressEvery = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan ScanEvery = TimeSpan.FromMilliseconds(200);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var first = true;
        var lastProgress = time.GetTimestamp();
        string? lastLine = null;
        while (!stoppingToken.IsCancellationRequested)
        {
            var next = queue.NextChange;
            ResultsDocument document;
            var lookStarted = time.GetTimestamp();
            try
            {
                document = await QueueApi.SnapshotAsync(queue);
                snapshot.Publish(document);
            }
            catch (Exception e) when (StoreErrors.IsTransient(e))
            {
                LogStoreError(logger, e.Message);
                await Task.Delay(ProgressEvery, time, stoppingToken);
                continue;
            }

            foreach (var task in document.Tasks.Where(t => t.State is not (TaskState.Waiting or TaskState.Running)))
            {
                if (!seen.Add(task.Key) || first) continue;
                LogTaskFinished(logger, task.Key, task.Result, task.Spec, task.Viewport, task.Browser,
                    ((task.DurationMs ?? 0) / 1000.0).ToString("0.0s", CultureInfo.InvariantCulture), task.Attempts, task.Worker ?? "-");
            }

            first = false;
            var p = document.Progress;
            var line = $"{p.Done}/{p.Total} final: {p.Passed} passed, {p.Flaky} flaky, {p.Failed} failed, {p.Errors + p.TimedOut} error{(p.Skipped > 0 ? $", {p.Skipped} skipped" : "")}; {p.Running} running, {p.Waiting} waiting";
            if (p.Finished)
            {
                await FinishAsync(document, stoppingToken);
                return;
            }

            if (line != lastLine && time.GetElapsedTime(lastProgress) >= ProgressEvery)
            {
                LogProgress(logger, Bar(p), line, p.EstimatedRemainingMs is { } eta ? ResultsView.GoDuration(eta + 999) : "unknown");
                lastProgress = time.GetTimestamp();
                lastLine = line;
            }

            var lookCost = time.GetElapsedTime(lookStarted);
            await Task.WhenAny(next, Task.Delay(ProgressEvery, time, stoppingToken));
            await Task.Delay(PauseAfterLook(lookCost), time, stoppingToken);
        }
    }

    /// <summary>
    /// Each look reads every task, and on a large run that read holds the store (SQLite's writer loop, Redis's one
    /// thread) for a while: 20,000 tasks took 105–146 ms on SQLite and 584 ms on Redis. So the pause after a look is at
    /// least <see cref="ScanEvery"/> and at least nine times what the look cost, which keeps following the run to about
    /// a tenth of the store's time, however large the run; the price is a later finish line on a huge run.
    /// </summary>
    internal static TimeSpan PauseAfterLook(TimeSpan lookCost) => lookCost * 9 > ScanEvery ? lookCost * 9 : ScanEvery;

    private async Task FinishAsync(ResultsDocument document, CancellationToken stoppingToken)
    {
        var attempts = await queue.Store.AttemptsAsync();
        var (junit, json) = ResultsWriter.Write(context.RunDirectory, document, attempts);
        queue.MarkFinished();
        var p = document.Progress;
        LogAllFinal(logger, p.Total, p.Passed, p.Flaky, p.Failed, p.Errors, p.TimedOut, junit);
        var summary = new WorkQueueSummary(document.RunId, p, junit, json,
            document.Tasks.Where(t => t.State is not (TaskState.Passed or TaskState.Flaky or TaskState.Skipped)).Select(t => $"{t.Key} {t.Result}: {t.Spec} [{t.Viewport}-{t.Browser}]").ToArray())
        {
            SkippedBrowsers = queue.Config.MissingBrowsers.Select(m =>
                $"{m.Browser}: {document.Tasks.Count(t => t.State == TaskState.Skipped && t.Browser == m.Browser)} skipped; {m.Reason}; remedy: {m.Remedy}").ToArray(),
        };
        await control.ReportFinishedAsync(new RunOutcome(p.AllPassed, JsonSerializer.SerializeToElement(summary, WorkQueueJson.Default.WorkQueueSummary)), stoppingToken);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "the store did not answer ({Error}); trying again")]
    private static partial void LogStoreError(ILogger logger, string error);

    private static string Bar(ProgressView p)
    {
        const int width = 20;
        var filled = p.Total == 0 ? width : p.Done * width / p.Total;
        return "[" + new string('#', filled) + new string('.', width - filled) + "]";
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "{Key} {Result}: {Spec} [{Viewport}-{Browser}] in {Duration}, attempt {Attempt}, {Worker}")]
    private static partial void LogTaskFinished(ILogger logger, string key, string result, string spec, string viewport, string browser, string duration, int attempt, string worker);

    [LoggerMessage(Level = LogLevel.Information, Message = "{Bar} {Line}; about {Eta} left")]
    private static partial void LogProgress(ILogger logger, string bar, string line, string eta);

    [LoggerMessage(Level = LogLevel.Information, Message = "all {Total} tasks final: {Passed} passed, {Flaky} flaky, {Failed} failed, {Errors} error, {TimedOut} timed-out; {JUnit}")]
    private static partial void LogAllFinal(ILogger logger, int total, int passed, int flaky, int failed, int errors, int timedOut, string junit);
}

/// <summary>Puts expired leases back on a timer, so a dead worker's task returns even when no one is claiming.</summary>
internal sealed class LeaseSweeper(QueueService queue, TimeProvider time) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var every = TimeSpan.FromTicks(Math.Max(queue.Config.Lease.Ticks / 4, TimeSpan.FromMilliseconds(20).Ticks));
        using var timer = new PeriodicTimer(every, time);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                await queue.ExpireAsync();
            }
            catch (Exception e) when (StoreErrors.IsTransient(e))
            {
                // The store is away for a moment (Redis restarting): the next tick tries again; nothing was changed.
            }
        }
    }
}
