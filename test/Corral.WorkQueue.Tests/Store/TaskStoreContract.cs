using Corral.Node.Storage;
using Corral.WorkQueue.Config;
using Corral.WorkQueue.Store;

namespace Corral.WorkQueue.Tests.Store;

/// <summary>
/// The queue's rules, written once and run against every store (SQLite and a real redis-server), so the two cannot
/// drift apart. Time is given to each transition (milliseconds), so every case is exact.
/// </summary>
public abstract class TaskStoreContract : IAsyncLifetime
{
    private const long Lease = 1000;
    private readonly List<ITaskStore> _opened = [];
    private readonly string _tag = Guid.NewGuid().ToString("N")[..8];

    /// <summary>Opens the store of <paramref name="runId"/>; opening the same run again sees what the first wrote.</summary>
    protected abstract Task<ITaskStore> OpenStoreAsync(string runId, QueueRules rules);

    private async Task<ITaskStore> OpenAsync(string runId = "run-1", int retries = 2)
    {
        var store = await OpenStoreAsync($"{runId}-{_tag}", new QueueRules { Retries = retries, Lease = TimeSpan.FromMilliseconds(Lease), MaxLostLeases = 3 });
        _opened.Add(store);
        return store;
    }

    private IReadOnlyList<TaskDefinition> Tasks(int count, string spec = "s") => Enumerable.Range(0, count).Select(i => new TaskDefinition
    {
        Key = $"task:g:{i}", Group = "g", Index = i, Ordinal = i, Spec = $"{spec}-{_tag}-{i}.spec", Viewport = "desktop", Browser = "chrome",
    }).ToArray();

    private static Completion Report(Claim claim, string worker, AttemptResult result, long duration = 10) => new()
    {
        Key = claim.Task.Key, Attempt = claim.Attempt, Worker = worker, Result = result, ExitCode = result == AttemptResult.Passed ? 0 : 1,
        DurationMs = duration, OutputTail = "tail",
    };

    private static async Task<QueuedTask> StatusOf(ITaskStore store, string key) => (await store.ListAsync()).Single(t => t.Task.Key == key);

    [Fact]
    public async Task Claims_follow_file_order_without_history_each_once_and_start_attempt_one()
    {
        var store = await OpenAsync();
        Assert.True(await store.EnqueueAsync(Tasks(3), 0));

        var claims = new[] { await store.ClaimAsync("w1", 0), await store.ClaimAsync("w2", 0), await store.ClaimAsync("w1", 0) };

        Assert.Equal(["task:g:0", "task:g:1", "task:g:2"], claims.Select(c => c!.Task.Key));
        Assert.All(claims, c => Assert.Equal((1, Lease), (c!.Attempt, c.LeaseExpiresMs)));
        Assert.Null(await store.ClaimAsync("w2", 0));
        var status = await StatusOf(store, "task:g:1");
        Assert.Equal((TaskState.Running, "w2", 1), (status.State, status.Worker, status.Attempt));
    }

    [Fact]
    public async Task A_heartbeat_extends_the_lease_and_an_expired_lease_puts_the_task_back_without_using_a_retry()
    {
        var store = await OpenAsync();
        await store.EnqueueAsync(Tasks(1), 0);
        var claim = (await store.ClaimAsync("w1", 0))!;

        Assert.True(await store.HeartbeatAsync(claim.Task.Key, 1, "w1", 900));
        Assert.Empty(await store.ExpireAsync(1500));
        Assert.Equal(["task:g:0"], await store.ExpireAsync(2000));

        var status = await StatusOf(store, "task:g:0");
        Assert.Equal((TaskState.Waiting, 0, 1), (status.State, status.Failures, status.LostLeases));
        var again = (await store.ClaimAsync("w2", 2000))!;
        Assert.Equal(("task:g:0", 2), (again.Task.Key, again.Attempt));
    }

    [Fact]
    public async Task The_third_lost_lease_makes_the_task_final_as_error()
    {
        var store = await OpenAsync();
        await store.EnqueueAsync(Tasks(1), 0);
        for (var i = 0; i < 3; i++)
        {
            Assert.NotNull(await store.ClaimAsync("w1", i * 10_000));
            await store.ExpireAsync(i * 10_000 + 5000);
        }

        var status = await StatusOf(store, "task:g:0");
        Assert.Equal((TaskState.Error, 3, 0), (status.State, status.LostLeases, status.Failures));
        Assert.True(status.IsFinal);
        Assert.Null(await store.ClaimAsync("w1", 40_000));
    }

    [Fact]
    public async Task A_late_report_and_heartbeat_from_a_lost_lease_are_refused_and_the_new_holders_count()
    {
        var store = await OpenAsync();
        await store.EnqueueAsync(Tasks(1), 0);
        var first = (await store.ClaimAsync("w1", 0))!;
        var second = (await store.ClaimAsync("w2", 5000))!; // the claim itself expires w1's lease first

        Assert.Equal(2, second.Attempt);
        Assert.Equal(ReportOutcome.Refused, await store.CompleteAsync(Report(first, "w1", AttemptResult.Passed), 5100));
        Assert.False(await store.HeartbeatAsync(first.Task.Key, 1, "w1", 5100));
        Assert.Equal(ReportOutcome.Recorded, await store.CompleteAsync(Report(second, "w2", AttemptResult.Passed), 5200));
        var status = await StatusOf(store, "task:g:0");
        Assert.Equal((TaskState.Passed, "w2", 2), (status.State, status.Worker, status.Attempt));
        Assert.Equal([("task:g:0", 2, "w2")], (await store.AttemptsAsync()).Select(a => (a.Key, a.Attempt, a.Worker)));
    }

    [Fact]
    public async Task A_report_after_the_lease_expired_is_refused_even_before_any_sweep()
    {
        var store = await OpenAsync();
        await store.EnqueueAsync(Tasks(1), 0);
        var claim = (await store.ClaimAsync("w1", 0))!;

        Assert.Equal(ReportOutcome.Refused, await store.CompleteAsync(Report(claim, "w1", AttemptResult.Passed), Lease + 1));
        Assert.Equal(TaskState.Waiting, (await StatusOf(store, "task:g:0")).State);
    }

    [Fact]
    public async Task A_failure_is_retried_until_the_retries_are_spent_then_final_with_its_result()
    {
        var store = await OpenAsync(retries: 1);
        await store.EnqueueAsync(Tasks(1), 0);

        var first = (await store.ClaimAsync("w1", 0))!;
        Assert.Equal(ReportOutcome.Recorded, await store.CompleteAsync(Report(first, "w1", AttemptResult.Failed), 10));
        Assert.Equal((TaskState.Waiting, 1), ((await StatusOf(store, "task:g:0")).State, (await StatusOf(store, "task:g:0")).Failures));
        var second = (await store.ClaimAsync("w2", 20))!;
        Assert.Equal(2, second.Attempt);
        await store.CompleteAsync(Report(second, "w2", AttemptResult.TimedOut), 30);

        var status = await StatusOf(store, "task:g:0");
        Assert.Equal((TaskState.TimedOut, 2, 30L), (status.State, status.Failures, status.EndedMs));
        Assert.Null(await store.ClaimAsync("w1", 40));
    }

    [Fact]
    public async Task A_task_that_fails_then_passes_is_flaky()
    {
        var store = await OpenAsync();
        await store.EnqueueAsync(Tasks(1), 0);
        await store.CompleteAsync(Report((await store.ClaimAsync("w1", 0))!, "w1", AttemptResult.Failed), 10);
        await store.CompleteAsync(Report((await store.ClaimAsync("w1", 20))!, "w1", AttemptResult.Passed), 30);

        var status = await StatusOf(store, "task:g:0");
        Assert.Equal((TaskState.Flaky, 1, 2), (status.State, status.Failures, status.Attempt));
        Assert.Equal([AttemptResult.Failed, AttemptResult.Passed], (await store.AttemptsAsync()).OrderBy(a => a.Attempt).Select(a => a.Result));
    }

    [Fact]
    public async Task A_repeated_report_of_the_same_attempt_is_recognised_and_changes_nothing()
    {
        var store = await OpenAsync();
        await store.EnqueueAsync(Tasks(1), 0);
        var claim = (await store.ClaimAsync("w1", 0))!;
        await store.CompleteAsync(Report(claim, "w1", AttemptResult.Failed), 10);

        Assert.Equal(ReportOutcome.Duplicate, await store.CompleteAsync(Report(claim, "w1", AttemptResult.Failed), 11));
        var status = await StatusOf(store, "task:g:0");
        Assert.Equal((TaskState.Waiting, 1), (status.State, status.Failures));
        Assert.Single(await store.AttemptsAsync());
    }

    [Fact]
    public async Task Enqueueing_a_run_again_resumes_it_with_nothing_duplicated_or_reset()
    {
        var store = await OpenAsync();
        await store.EnqueueAsync(Tasks(3), 0);
        await store.CompleteAsync(Report((await store.ClaimAsync("w1", 0))!, "w1", AttemptResult.Passed), 10);
        var running = (await store.ClaimAsync("w2", 20))!;
        await store.DisposeAsync();
        _opened.Remove(store);

        var resumed = await OpenAsync();
        Assert.False(await resumed.EnqueueAsync(Tasks(3), 100));

        var tasks = await resumed.ListAsync();
        Assert.Equal([TaskState.Passed, TaskState.Running, TaskState.Waiting], tasks.Select(t => t.State));
        Assert.Equal(ReportOutcome.Recorded, await resumed.CompleteAsync(Report(running, "w2", AttemptResult.Passed), 200));
        Assert.Equal("task:g:2", (await resumed.ClaimAsync("w1", 300))!.Task.Key);
        Assert.Null(await resumed.ClaimAsync("w1", 300));
    }

    [Fact]
    public async Task A_later_run_claims_the_longest_expected_first_from_earlier_durations_and_unknown_tasks_before_them()
    {
        var first = await OpenAsync("run-a");
        var tasks = Tasks(3);
        await first.EnqueueAsync(tasks, 0);
        var durations = new Dictionary<string, long> { ["task:g:0"] = 100, ["task:g:1"] = 300, ["task:g:2"] = 200 };
        for (var i = 0; i < 3; i++)
        {
            var claim = (await first.ClaimAsync("w1", 0))!;
            await first.CompleteAsync(Report(claim, "w1", AttemptResult.Passed, durations[claim.Task.Key]), 10);
        }

        var second = await OpenAsync("run-b");
        var unknown = new TaskDefinition { Key = "task:h:0", Group = "h", Index = 0, Ordinal = 3, Spec = $"new-{_tag}.spec", Viewport = "desktop", Browser = "chrome" };
        await second.EnqueueAsync([.. tasks, unknown], 100);

        var order = new List<string>();
        while (await second.ClaimAsync("w1", 100) is { } claim) order.Add(claim.Task.Key);
        Assert.Equal(["task:h:0", "task:g:1", "task:g:2", "task:g:0"], order);
        Assert.Equal(300, (await StatusOf(second, "task:g:1")).ExpectedMs);
    }

    /// <summary>Takes the waiting tasks at the given indexes, and records what it was shown.</summary>
    private sealed class FixedBatch(params int[] indexes) : IClaimBatching
    {
        public IReadOnlyList<WaitingTask> Waiting { get; private set; } = [];
        public IReadOnlyList<RunningTask> Running { get; private set; } = [];

        public IReadOnlyList<int> Choose(IReadOnlyList<WaitingTask> waiting, IReadOnlyList<RunningTask> running, long nowMs)
        {
            (Waiting, Running) = (waiting, running);
            return indexes;
        }
    }

    [Fact]
    public async Task A_batched_claim_takes_the_head_and_the_chosen_tasks_at_once_each_with_its_own_lease_and_report()
    {
        var store = await OpenAsync();
        await store.EnqueueAsync(Tasks(5), 0);
        Assert.NotNull(await store.ClaimAsync("w0", 0));

        // Out of range and repeated indexes are dropped; the head is taken even when not chosen.
        var chooser = new FixedBatch(3, 1, 1, 9);
        var claims = await store.ClaimBatchAsync("w1", 100, chooser);

        Assert.Equal(["task:g:1", "task:g:2", "task:g:4"], claims.Select(c => c.Task.Key));
        Assert.All(claims, c => Assert.Equal((1, 100 + Lease), (c.Attempt, c.LeaseExpiresMs)));
        Assert.Equal(["task:g:1", "task:g:2", "task:g:3", "task:g:4"], chooser.Waiting.Select(w => w.Task.Key));
        Assert.All(chooser.Waiting, w => Assert.Equal(0, w.Attempt));
        Assert.Equal(("w0", 0L), (chooser.Running.Single().Worker, chooser.Running.Single().StartedMs));
        Assert.All(await store.ListAsync(), t => Assert.Equal(t.Task.Key == "task:g:3" ? TaskState.Waiting : TaskState.Running, t.State));

        // Each task of the batch is held on its own: a heartbeat for one keeps only that one.
        Assert.True(await store.HeartbeatAsync("task:g:2", 1, "w1", 100 + Lease / 2));
        Assert.True(await store.HeartbeatAsync("task:g:0", 1, "w0", 100 + Lease / 2));
        Assert.Equal(ReportOutcome.Recorded, await store.CompleteAsync(Report(claims[0], "w1", AttemptResult.Failed), 100 + Lease / 2));
        Assert.Equal(["task:g:4"], await store.ExpireAsync(101 + Lease));
        Assert.Equal(TaskState.Running, (await StatusOf(store, "task:g:2")).State);

        // The failed task comes back first (its rank), as a second attempt a chooser sees as such.
        var again = new FixedBatch();
        Assert.Equal("task:g:1", (await store.ClaimBatchAsync("w2", 200 + Lease, again)).Single().Task.Key);
        Assert.Equal(1, again.Waiting[0].Attempt);
        var rest = await store.ClaimBatchAsync("w2", 200 + Lease, new FixedBatch(1));
        Assert.Equal([("task:g:3", 1), ("task:g:4", 2)], rest.Select(c => (c.Task.Key, c.Attempt)));
        Assert.Empty(await store.ClaimBatchAsync("w2", 200 + Lease, new FixedBatch(1)));
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var store in _opened) await store.DisposeAsync();
    }
}

/// <summary>The contract on the embedded SQLite store.</summary>
public sealed class SqliteTaskStoreTests : TaskStoreContract, IDisposable
{
    private readonly TempFolder _folder = new();

    protected override Task<ITaskStore> OpenStoreAsync(string runId, QueueRules rules) =>
        Task.FromResult<ITaskStore>(SqliteTaskStore.Open(_folder.Combine("workqueue.db"), runId, rules));

    [Theory]
    [InlineData(Durability.Sync, "NORMAL")]
    [InlineData(Durability.Fsync, "FULL")]
    public async Task Durability_sets_the_synchronous_level_of_the_writer_connection(Durability durability, string expected)
    {
        await using var store = SqliteTaskStore.Open(_folder.Combine("workqueue.db"), "run-1", new QueueRules(), durability);

        Assert.Equal(expected, await store.SynchronousAsync());
    }

    public void Dispose() => _folder.Dispose();
}

/// <summary>The contract on a real redis-server with appendfsync always.</summary>
public sealed class RedisTaskStoreTests(RedisServer redis) : TaskStoreContract, IClassFixture<RedisServer>
{
    protected override async Task<ITaskStore> OpenStoreAsync(string runId, QueueRules rules) => await RedisTaskStore.ConnectAsync(redis.Url, runId, rules);
}
