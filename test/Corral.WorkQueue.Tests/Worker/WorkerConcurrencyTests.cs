using System.Collections.Concurrent;
using System.Diagnostics;
using Corral.Node.Nodes;
using Corral.WorkQueue.Config;
using Corral.WorkQueue.Controller;
using Corral.WorkQueue.Store;
using Corral.WorkQueue.Worker;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Corral.WorkQueue.Tests.Worker;

/// <summary>A worker with <c>concurrency</c> N holds N claims at once against a real controller over real HTTP.</summary>
public sealed class WorkerConcurrencyTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task With_concurrency_3_one_worker_runs_three_slow_tasks_at_the_same_time_and_exits_when_all_are_final()
    {
        using var folder = new TempFolder();
        await using var control = await ControlApiStub.StartAsync();
        var context = control.Context("controller", WorkQueuePlan.ControllerRole, folder.Path);
        var config = new WorkQueueConfig
        {
            SpecList = folder.Combine("map.json"), SpecRoot = folder.Path, Command = ["true"], Workers = 1, Concurrency = 3,
            Lease = TimeSpan.FromSeconds(30),
            Tasks = Enumerable.Range(0, 3).Select(i => new TaskDefinition
            {
                Key = $"task:g:{i}", Group = "g", Index = i, Ordinal = i, Spec = "slow.spec.ts", Viewport = "desktop", Browser = "chrome",
            }).ToArray(),
        };
        await using var store = SqliteTaskStore.Open(folder.Combine("workqueue.db"), context.RunId, ControllerNode.Rules(config));
        await using var controller = ControllerNode.Build(context, config, store);
        await controller.Services.GetRequiredService<QueueService>().StartAsync();
        await controller.StartAsync();

        // Each task is slow until all three run: it only ends once three have started (or the bound passes, and the test fails).
        var runner = new GatedRunner(gate: 3, Bound);
        await using var worker = WorkerNode.Build(control.Context("worker-1", WorkQueuePlan.WorkerRole, folder.Path), config, runner,
            new Uri($"http://127.0.0.1:{controller.BoundPort()}/"));
        var stopped = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        worker.Lifetime.ApplicationStopping.Register(() => stopped.TrySetResult());
        await worker.StartAsync();
        await stopped.Task.WaitAsync(Bound * 2);

        Assert.False(worker.Services.GetRequiredService<WorkerLoop>().ExecuteTask!.IsFaulted);
        var runs = runner.Runs.ToArray();
        Assert.Equal(["task:g:0", "task:g:1", "task:g:2"], runs.Select(r => r.Key).Order());
        Assert.True(runs.Max(r => r.Started) < runs.Min(r => r.Ended), "the three run intervals overlap");
        Assert.Equal(3, runner.MaxRunning);
        Assert.All(await store.ListAsync(), t => Assert.Equal(TaskState.Passed, t.State));
        Assert.Equal(["worker-1"], (await store.AttemptsAsync()).Select(a => a.Worker).Distinct());
        await worker.StopAsync();
        await controller.StopAsync();
    }

    private sealed class GatedRunner(int gate, TimeSpan bound) : ISpecRunner
    {
        private readonly TaskCompletionSource _allStarted = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int _started;
        private int _running;
        private int _maxRunning;

        public ConcurrentBag<(string Key, long Started, long Ended)> Runs { get; } = [];
        public int MaxRunning => Volatile.Read(ref _maxRunning);

        public async Task<RunResult> RunAsync(ClaimedTask task, CancellationToken cancellationToken)
        {
            var started = Stopwatch.GetTimestamp();
            var running = Interlocked.Increment(ref _running);
            InterlockedMax(ref _maxRunning, running);
            if (Interlocked.Increment(ref _started) >= gate) _allStarted.TrySetResult();
            try
            {
                await _allStarted.Task.WaitAsync(bound, cancellationToken);
            }
            catch (TimeoutException)
            {
                // Not all ran at once: end anyway, so the run finishes and the assertions say what went wrong.
            }

            Interlocked.Decrement(ref _running);
            Runs.Add((task.Task.Key, started, Stopwatch.GetTimestamp()));
            return new RunResult(AttemptResult.Passed, 0, (long)Stopwatch.GetElapsedTime(started).TotalMilliseconds, "");
        }

        private static void InterlockedMax(ref int target, int value)
        {
            int seen;
            while ((seen = Volatile.Read(ref target)) < value && Interlocked.CompareExchange(ref target, value, seen) != seen)
            {
            }
        }
    }
}
