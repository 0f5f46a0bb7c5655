using Corral.WorkQueue.Config;
using Corral.WorkQueue.Store;
using Microsoft.Extensions.Logging;

namespace Corral.WorkQueue.Controller;

/// <summary>
/// The controller's queue: the store's transitions stamped with the controller's clock, and a signal that fires after
/// every change so the monitor and the reporter's live feed wake up instead of polling.
/// </summary>
internal sealed partial class QueueService(ITaskStore store, WorkQueueConfig config, string runId, TimeProvider time, ILogger<QueueService> logger)
{
    private readonly BatchPlanner? _batching = BatchPlanner.For(config);
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private volatile bool _finished;

    public string RunId => runId;
    public WorkQueueConfig Config => config;
    public ITaskStore Store => store;
    public long StartedMs { get; private set; }
    public bool Finished => _finished;

    /// <summary>Completes at the next change of any task.</summary>
    public Task NextChange => Volatile.Read(ref _changed).Task;

    public long Now => time.GetUtcNow().ToUnixTimeMilliseconds();

    /// <summary>The controller's clock (the reporter feed's throttle and heartbeat run on it).</summary>
    public TimeProvider Time => time;

    /// <summary>Enqueues the run's tasks, or on a resume keeps what the store has.</summary>
    public async Task StartAsync()
    {
        StartedMs = Now;
        if (await store.EnqueueAsync(config.Tasks, StartedMs))
        {
            LogEnqueued(logger, runId, config.Tasks.Count);
        }
        else
        {
            var tasks = await store.ListAsync();
            LogResumed(logger, runId, tasks.Count, tasks.Count(t => t.IsFinal), tasks.Count(t => t.State == TaskState.Running));
        }

        Signal();
    }

    public async Task<ClaimReply> ClaimAsync(string worker)
    {
        var reply = Reply(await ClaimFromStoreAsync(worker, Now), worker);
        if (reply.Task is not null) Signal();
        return reply;
    }

    /// <summary>Playwright tasks are claimed in batches (<see cref="BatchPlanner"/>); every other runner's one at a time.</summary>
    private async Task<IReadOnlyList<Claim>> ClaimFromStoreAsync(string worker, long now) =>
        _batching is not null ? await store.ClaimBatchAsync(worker, now, _batching)
        : await store.ClaimAsync(worker, now) is { } claim ? [claim] : [];

    private ClaimReply Reply(IReadOnlyList<Claim> claims, string worker)
    {
        if (claims.Count == 0) return new ClaimReply(null, _finished, RetryAfterMs());
        foreach (var claim in claims) LogClaimed(logger, claim.Task.Key, claim.Attempt, worker);
        var tasks = claims.Select(c => new ClaimedTask(c.Task, c.Attempt, c.LeaseExpiresMs, runId, (long)config.Heartbeat.TotalMilliseconds)).ToArray();
        return new ClaimReply(tasks[0], false, 0) { More = tasks.Length > 1 ? tasks[1..] : null };
    }

    public Task<bool> HeartbeatAsync(HeartbeatRequest request) => store.HeartbeatAsync(request.Key, request.Attempt, request.Worker, Now);

    public async Task<ReportOutcome> CompleteAsync(Completion completion)
    {
        var (outcome, _) = await CompleteAsync(completion, claimNext: false);
        return outcome;
    }

    /// <summary>
    /// Records a report and, when asked, claims the reporter's next task in the same breath: both transitions are queued
    /// together, so they share one commit (one fsync) and the worker one round trip.
    /// </summary>
    public async Task<(ReportOutcome Outcome, ClaimReply? Next)> CompleteAsync(Completion completion, bool claimNext)
    {
        var now = Now;
        var completing = store.CompleteAsync(completion, now);
        var claiming = claimNext ? ClaimFromStoreAsync(completion.Worker, now) : null;
        var outcome = await completing;
        ClaimReply? next = null;
        if (claiming is not null)
        {
            next = Reply(await claiming, completion.Worker);
        }

        if (outcome == ReportOutcome.Refused) LogRefused(logger, completion.Key, completion.Attempt, completion.Worker);
        if (outcome == ReportOutcome.Recorded || next?.Task is not null) Signal();
        return (outcome, next);
    }

    public async Task ExpireAsync()
    {
        var keys = await store.ExpireAsync(Now);
        foreach (var key in keys) LogLeaseLost(logger, key);
        if (keys.Count > 0) Signal();
    }

    public void MarkFinished()
    {
        _finished = true;
        Signal();
    }

    /// <summary>Workers without a task ask again soon: a lost lease or a retry can bring one back at any time.</summary>
    private int RetryAfterMs() => (int)Math.Clamp(config.Lease.TotalMilliseconds / 10, 20, 500);

    private void Signal() => Interlocked.Exchange(ref _changed, new(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();

    [LoggerMessage(Level = LogLevel.Information, Message = "run {RunId}: {Count} tasks enqueued")]
    private static partial void LogEnqueued(ILogger logger, string runId, int count);

    [LoggerMessage(Level = LogLevel.Information, Message = "run {RunId} resumed from the store: {Count} tasks, {Final} final, {Running} running under leases")]
    private static partial void LogResumed(ILogger logger, string runId, int count, int final, int running);

    [LoggerMessage(Level = LogLevel.Debug, Message = "{Key} attempt {Attempt} claimed by {Worker}")]
    private static partial void LogClaimed(ILogger logger, string key, int attempt, string worker);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Key} attempt {Attempt}: report from {Worker} refused, it no longer holds the lease")]
    private static partial void LogRefused(ILogger logger, string key, int attempt, string worker);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Key}: lease expired without a heartbeat; the task goes back to the queue")]
    private static partial void LogLeaseLost(ILogger logger, string key);
}
