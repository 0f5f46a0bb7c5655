using Corral.WorkQueue.Config;
using Corral.WorkQueue.Controller;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Corral.WorkQueue.Worker;

/// <summary>
/// A worker's loop: claim, run with heartbeats, report; leave (exit 0) once the controller says every task of the run is
/// final, not merely when nothing waits, since an expired lease can bring a task back. A lost lease stops the command:
/// the task is someone else's now. With <c>concurrency</c> N the worker runs N such slots side by side, each holding
/// its own claim (own lease, heartbeat, process group and report); the worker leaves once every slot has heard that
/// the run is finished.
/// </summary>
internal sealed partial class WorkerLoop(
    QueueClient client, ISpecRunner runner, WorkQueueConfig config, IHostApplicationLifetime lifetime, TimeProvider time, ILogger<WorkerLoop> logger)
    : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // A slot that gives up stops the others from claiming: the controller is gone for all of them alike. Its
        // exception then fails this work, and the node exits non-zero (NodeHost), so the supervisor restarts it.
        using var giveUp = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        await Task.WhenAll(Enumerable.Range(0, Math.Max(1, config.Concurrency)).Select(_ => SlotAsync(giveUp)));
        if (stoppingToken.IsCancellationRequested) return;
        LogDrained(logger);
        lifetime.StopApplication();
    }

    private async Task SlotAsync(CancellationTokenSource stopping)
    {
        await Task.Yield();
        var stoppingToken = stopping.Token;
        try
        {
            ClaimReply? next = null;
            while (!stoppingToken.IsCancellationRequested)
            {
                var reply = next ?? await client.ClaimAsync(stoppingToken);
                next = null;
                if (reply.Task is { } task)
                {
                    next = reply.More is { Count: > 0 } more ? await RunBatchAsync([task, .. more], stoppingToken) : await RunAsync(task, stoppingToken);
                }
                else if (reply.RunFinished)
                {
                    break;
                }
                else
                {
                    await Task.Delay(TimeSpan.FromMilliseconds(reply.RetryAfterMs), time, stoppingToken);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Asked to stop, or another slot gave up.
        }
        catch (Exception e) when (e is HttpRequestException or InvalidOperationException)
        {
            LogGaveUp(logger, e.Message);
            await stopping.CancelAsync();
            throw;
        }
    }

    /// <summary>Runs one task and reports it; returns the next claim that came with the report (none while draining).</summary>
    private async Task<ClaimReply?> RunAsync(ClaimedTask task, CancellationToken stoppingToken)
    {
        LogWorking(logger, task.Task.Key, task.Attempt, task.Task.Spec, task.Task.Viewport, task.Task.Browser);
        using var leaseLost = new CancellationTokenSource();
        using var heartbeatsDone = new CancellationTokenSource();
        var heartbeats = HeartbeatAsync(task, leaseLost, heartbeatsDone.Token);
        RunResult? result = null;
        try
        {
            // The current task is finished even when the node is asked to drain; only a lost lease stops it.
            result = await runner.RunAsync(task, leaseLost.Token);
        }
        catch (OperationCanceledException) when (leaseLost.IsCancellationRequested)
        {
            LogLeaseLost(logger, task.Task.Key, task.Attempt);
        }
        finally
        {
            await heartbeatsDone.CancelAsync();
            await heartbeats;
        }

        if (result is null) return null;
        var (recorded, next) = await client.CompleteAndClaimAsync(task, result, claimNext: !stoppingToken.IsCancellationRequested, CancellationToken.None);
        if (!recorded) LogLeaseLost(logger, task.Task.Key, task.Attempt);
        return next;
    }

    /// <summary>
    /// Runs a batched claim in one invocation (one by one when the runner cannot batch), heartbeating every task's lease;
    /// the invocation is stopped only once every lease is lost (a task whose lease alone is lost runs elsewhere as well,
    /// and its report here is refused). Each task is reported on its own; the last report asks for the next claim.
    /// </summary>
    private async Task<ClaimReply?> RunBatchAsync(IReadOnlyList<ClaimedTask> batch, CancellationToken stoppingToken)
    {
        foreach (var task in batch) LogWorking(logger, task.Task.Key, task.Attempt, task.Task.Spec, task.Task.Viewport, task.Task.Browser);
        using var allLost = new CancellationTokenSource();
        using var heartbeatsDone = new CancellationTokenSource();
        var lost = batch.Select(_ => new CancellationTokenSource()).ToArray();
        var stillHeld = batch.Count;
        var heartbeats = batch.Select((task, i) => HeartbeatAsync(task, lost[i], heartbeatsDone.Token)).ToArray();
        foreach (var source in lost)
        {
            source.Token.Register(() =>
            {
                if (Interlocked.Decrement(ref stillHeld) == 0) allLost.Cancel();
            });
        }

        IReadOnlyList<RunResult>? results = null;
        try
        {
            results = runner is IBatchSpecRunner batching
                ? await batching.RunBatchAsync(batch, allLost.Token)
                : await SequentiallyAsync(batch, allLost.Token);
        }
        catch (OperationCanceledException) when (allLost.IsCancellationRequested)
        {
            foreach (var task in batch) LogLeaseLost(logger, task.Task.Key, task.Attempt);
        }
        finally
        {
            await heartbeatsDone.CancelAsync();
            await Task.WhenAll(heartbeats);
            foreach (var source in lost) source.Dispose();
        }

        if (results is null) return null;
        // Every report but the last on its own (they share the controller's next commit); the last also claims.
        var reports = await Task.WhenAll(batch.Take(batch.Count - 1).Select((task, i) => client.CompleteAsync(task, results[i], CancellationToken.None)));
        for (var i = 0; i < reports.Length; i++)
        {
            if (!reports[i]) LogLeaseLost(logger, batch[i].Task.Key, batch[i].Attempt);
        }

        var (recorded, next) = await client.CompleteAndClaimAsync(batch[^1], results[^1], claimNext: !stoppingToken.IsCancellationRequested, CancellationToken.None);
        if (!recorded) LogLeaseLost(logger, batch[^1].Task.Key, batch[^1].Attempt);
        return next;
    }

    private async Task<IReadOnlyList<RunResult>> SequentiallyAsync(IReadOnlyList<ClaimedTask> batch, CancellationToken cancellationToken)
    {
        var results = new List<RunResult>();
        foreach (var task in batch) results.Add(await runner.RunAsync(task, cancellationToken));
        return results;
    }

    private async Task HeartbeatAsync(ClaimedTask task, CancellationTokenSource leaseLost, CancellationToken done)
    {
        try
        {
            while (true)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(task.HeartbeatMs), time, done);
                if (!await client.HeartbeatAsync(task, done))
                {
                    await leaseLost.CancelAsync();
                    return;
                }
            }
        }
        catch (OperationCanceledException)
        {
            // The task ended.
        }
        catch (Exception e) when (e is HttpRequestException or InvalidOperationException)
        {
            // The controller stayed away past the budget: the lease will expire there; stop the command here.
            await leaseLost.CancelAsync();
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "working on {Key} attempt {Attempt}: {Spec} [{Viewport}-{Browser}]")]
    private static partial void LogWorking(ILogger logger, string key, int attempt, string spec, string viewport, string browser);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Key} attempt {Attempt}: lease lost; the task runs elsewhere")]
    private static partial void LogLeaseLost(ILogger logger, string key, int attempt);

    [LoggerMessage(Level = LogLevel.Information, Message = "every task of the run is final; worker exiting")]
    private static partial void LogDrained(ILogger logger);

    [LoggerMessage(Level = LogLevel.Error, Message = "giving up: {Error}")]
    private static partial void LogGaveUp(ILogger logger, string error);
}
