using Corral.WorkQueue.Config;
using Corral.WorkQueue.Controller;
using Corral.WorkQueue.Store;

namespace Corral.WorkQueue.Tests.Controller;

/// <summary>How many Playwright tasks one claim takes: the head always, then its batch key's first attempts, up to a share of the work.</summary>
public sealed class BatchPlannerTests
{
    private static WaitingTask Waiting(int i, long? expected, string viewport = "desktop", int attempt = 0) => new(new TaskDefinition
    {
        Key = $"task:g:{i}", Group = "g", Index = i, Ordinal = i, Spec = $"tests/s{i}.spec.ts", Viewport = viewport, Browser = "chrome",
    }, attempt, expected);

    private static BatchPlanner Planner(int slots) => new(slots, t => t.Viewport == "none" ? null : $"{t.Viewport}-{t.Browser}");

    [Fact]
    public void With_history_a_batch_fills_up_to_the_claimants_share_first_fit_and_the_last_idle_slot_takes_the_rest()
    {
        // Longest first: 4 long, then 20 short; 2 slots share 4×13 + 20×2 = 92 s: 46 s each.
        var waiting = Enumerable.Range(0, 24).Select(i => Waiting(i, i < 4 ? 13_000 : 2_000)).ToArray();

        var first = Planner(2).Choose(waiting, [], 0);

        // Three long ones (39 s); the fourth would pass 46 s and is left, three short ones after it still fit (45 s).
        Assert.Equal([0, 1, 2, 4, 5, 6], first);
        // The second claimant is the last idle slot: it takes everything left (13 + 17 × 2 = 47 s), leaving no crumb
        // for a third invocation (its share alone, 46 s, would have left one 2 s task).
        var running = first.Select(i => new RunningTask("w1", 0, waiting[i].ExpectedMs)).ToArray();
        var rest = waiting.Where((_, i) => !first.Contains(i)).ToArray();
        var second = Planner(2).Choose(rest, running, 0);
        Assert.Equal(Enumerable.Range(0, rest.Length), second);
    }

    [Fact]
    public void With_more_idle_slots_the_claim_stays_within_its_share()
    {
        var waiting = Enumerable.Range(0, 12).Select(i => Waiting(i, 1_000)).ToArray();
        // 3 slots, one busy with a batch of 3 s left: (12 + 3) ÷ 3 = 5 s for this claim, not all 12.
        var running = new[] { new RunningTask("w1", 0, 3_000) };

        Assert.Equal(5, Planner(3).Choose(waiting, running, 0).Count);
    }

    [Fact]
    public void The_share_counts_only_what_running_batches_have_left()
    {
        var waiting = Enumerable.Range(0, 10).Select(i => Waiting(i, 1_000)).ToArray();
        // A 30 s batch started 25 s ago has 5 s left: 10 + 5 = 15 s outstanding, 5 s per slot of three.
        var running = new[] { new RunningTask("w1", 0, 10_000), new RunningTask("w1", 0, 20_000) };

        Assert.Equal(15_000, BatchPlanner.Outstanding(waiting, running, 25_000));
        Assert.Equal(5, Planner(3).Choose(waiting, running, 25_000).Count);
    }

    [Fact]
    public void Other_projects_are_skipped_and_stay_at_the_head_while_retries_and_unbatchable_tasks_run_alone()
    {
        var waiting = new[] { Waiting(0, 1_000), Waiting(1, 1_000, "mobile"), Waiting(2, 1_000), Waiting(3, 1_000, attempt: 1), Waiting(4, 1_000) };

        Assert.Equal([0, 2, 4], Planner(1).Choose(waiting, [], 0));
        Assert.Equal([0], Planner(1).Choose([Waiting(0, 1_000, attempt: 1), .. waiting], [], 0));
        Assert.Equal([0], Planner(1).Choose([Waiting(0, 1_000, "none"), .. waiting], [], 0));
    }

    [Fact]
    public void The_head_is_taken_even_when_it_alone_passes_the_share()
    {
        var waiting = new[] { Waiting(0, 60_000), Waiting(1, 1_000), Waiting(2, 1_000) };

        Assert.Equal([0], Planner(2).Choose(waiting, [], 0));
    }

    [Fact]
    public void Without_history_batches_are_small_shares_of_the_waiting_count()
    {
        var waiting = Enumerable.Range(0, 24).Select(i => Waiting(i, null)).ToArray();

        Assert.Equal(6, Planner(2).Choose(waiting, [], 0).Count); // 24 ÷ (2 slots × 2)
        Assert.Equal(2, Planner(2).Choose(waiting[18..], [], 0).Count); // 6 ÷ 4, rounded up
        Assert.Single(Planner(2).Choose(waiting[22..], [], 0));
        Assert.Equal(BatchPlanner.MaxBatch, Planner(2).Choose(Enumerable.Range(0, 200).Select(i => Waiting(i, null)).ToArray(), [], 0).Count);
        // One slot has nothing to balance.
        Assert.Equal(3, Planner(1).Choose(waiting[21..], [], 0).Count);
    }
}
