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
        var claim = await store.ClaimAsync(worker, Now);
        if (claim is null) return new ClaimReply(null, _finished, RetryAfterMs());
        LogClaimed(logger, claim.Task.Key, claim.Attempt, worker);
        Signal();
        return new ClaimReply(new ClaimedTask(claim.Task, claim.Attempt, claim.LeaseExpiresMs, runId, (long)config.Heartbeat.TotalMilliseconds), false, 0);
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
        var claiming = claimNext ? store.ClaimAsync(completion.Worker, now) : null;
        var outcome = await completing;
        ClaimReply? next = null;
        if (claiming is not null)
        {
            var claim = await claiming;
            next = claim is null
                ? new ClaimReply(null, _finished, RetryAfterMs())
                : new ClaimReply(new ClaimedTask(claim.Task, claim.Attempt, claim.LeaseExpiresMs, runId, (long)config.Heartbeat.TotalMilliseconds), false, 0);
            if (claim is not null) LogClaimed(logger, claim.Task.Key, claim.Attempt, completion.Worker);
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
