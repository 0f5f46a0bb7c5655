using Corral.WorkQueue.Config;
using Corral.WorkQueue.PlaywrightRuns;
using Corral.WorkQueue.Store;

namespace Corral.WorkQueue.Controller;

/// <summary>
/// How many queued Playwright tasks one claim takes, to run them in one <c>npx playwright test spec1 spec2 ...</c>:
/// every task pays the runner's, the site's and the browser's start-up, a batch pays it once. A batch begins with the
/// head of the queue (so the longest-first order is never taken apart) and adds the following tasks of the same batch
/// key (same command, viewport and browser) in claim order, skipping the others, which stay at the head for the next
/// claim. Only first attempts are batched: a retry runs alone, so a failure is retried apart from the batch it was in.
/// <list type="bullet">
/// <item>With history, a batch fills up to the claimant's share of the work still to do (waiting tasks' expected
/// durations plus what running batches have left, divided by the slots), first fit in claim order: a task that would
/// pass the share is left for another claim and smaller ones after it still join. The last idle slot (every other
/// slot runs a batch) takes all that is left of its key: a share computed to the millisecond would otherwise leave a
/// crumb of a task or two, and a third invocation's start-up costs more than the crumb. So the first claims split the
/// work into as many batches as there are slots; later ones mop up what estimates missed.</item>
/// <item>Without history, nothing says which tasks are long: a batch is at most a <see cref="FirstRunShare"/>-th of
/// the waiting tasks per slot, so the first run still balances by count (one slot has nothing to balance: it takes up
/// to <see cref="MaxBatch"/>).</item>
/// </list>
/// </summary>
internal sealed class BatchPlanner(int slots, Func<TaskDefinition, string?> batchKey) : IClaimBatching
{
    /// <summary>The most tasks one invocation runs (its argument list stays short, one failure costs little).</summary>
    public const int MaxBatch = 32;

    /// <summary>Without history a batch is at most the waiting count ÷ (slots × this), rounded up.</summary>
    public const int FirstRunShare = 2;

    /// <summary>The planner for a run: batches only Playwright commands that <see cref="PlaywrightBatch"/> can run together.</summary>
    public static BatchPlanner? For(WorkQueueConfig config) =>
        config.Tasks.Any(t => PlaywrightBatch.Key(config, t) is not null) ? new BatchPlanner(config.Slots, t => PlaywrightBatch.Key(config, t)) : null;

    public IReadOnlyList<int> Choose(IReadOnlyList<WaitingTask> waiting, IReadOnlyList<RunningTask> running, long nowMs)
    {
        if (waiting.Count == 0) return [];
        var head = waiting[0];
        if (head.Attempt > 0 || batchKey(head.Task) is not { } key) return [0];
        var chosen = new List<int> { 0 };
        if (head.ExpectedMs is { } headMs)
        {
            var lastIdleSlot = RunningBatches(running) >= slots - 1;
            var budget = lastIdleSlot ? long.MaxValue : Outstanding(waiting, running, nowMs) / Math.Max(1, slots);
            var total = headMs;
            for (var i = 1; i < waiting.Count && chosen.Count < MaxBatch; i++)
            {
                if (!Joins(waiting[i], key) || waiting[i].ExpectedMs is not { } ms || total + ms > budget) continue;
                total += ms;
                chosen.Add(i);
            }
        }
        else
        {
            // One slot has nothing to balance: everything it can take in one invocation.
            var size = slots <= 1 ? MaxBatch : Math.Min(MaxBatch, (waiting.Count + slots * FirstRunShare - 1) / (slots * FirstRunShare));
            for (var i = 1; i < waiting.Count && chosen.Count < size; i++)
            {
                if (Joins(waiting[i], key) && waiting[i].ExpectedMs is null) chosen.Add(i);
            }
        }

        return chosen;
    }

    private bool Joins(WaitingTask task, string key) => task.Attempt == 0 && batchKey(task.Task) == key;

    /// <summary>Batches running now: one per worker's claim at one instant.</summary>
    private static int RunningBatches(IReadOnlyList<RunningTask> running) => running.Select(r => (r.Worker, r.StartedMs)).Distinct().Count();

    /// <summary>The work still to do: every waiting task's expected time, and what each running batch (one worker's claim at one instant) has left.</summary>
    public static long Outstanding(IReadOnlyList<WaitingTask> waiting, IReadOnlyList<RunningTask> running, long nowMs) =>
        waiting.Sum(w => w.ExpectedMs ?? 0)
        + running.GroupBy(r => (r.Worker, r.StartedMs)).Sum(batch => Math.Max(0, batch.Sum(r => r.ExpectedMs ?? 0) - (nowMs - batch.Key.StartedMs)));
}
