using System.Diagnostics;
using System.Globalization;
using Corral.Node.Nodes;
using Corral.Node.Storage;
using Corral.Testing;
using Corral.WorkQueue;
using Corral.WorkQueue.Config;
using Corral.WorkQueue.Controller;
using Corral.WorkQueue.Store;
using Corral.WorkQueue.Worker;
using Microsoft.Extensions.DependencyInjection;

// Usage:
//   cycles   [tasks=20000] [store=sqlite|redis://host:port] [concurrency=1] [durability=sync|fsync]
//            claim + complete cycles/s through a real controller, 4 workers each running `concurrency` tasks at once, no-op runner
//   native   <corral binary, or label=path,label=path> <tasks> <redis://host:port> <redis-server pid> [rounds=3] [concurrencies=1,16]
//            the same cycles with the native controller under `corral up --engine external` and each worker a process of its
//            own (slot-worker), SQLite sync and Redis interleaved; CPU µs per cycle at the controller and at redis-server
//   makespan [seeds=5]                                         100 tasks, skewed durations ±20% jitter: longest-first vs file order vs the bound
var mode = args.ElementAtOrDefault(0) ?? "cycles";
return mode switch
{
    "cycles" => await Cycles.RunAsync(int.Parse(args.ElementAtOrDefault(1) ?? "20000", CultureInfo.InvariantCulture), args.ElementAtOrDefault(2) ?? "sqlite",
        int.Parse(args.ElementAtOrDefault(3) ?? "1", CultureInfo.InvariantCulture),
        args.ElementAtOrDefault(4) == "fsync" ? Durability.Fsync : Durability.Sync),
    "makespan" => await Makespan.RunAsync(int.Parse(args.ElementAtOrDefault(1) ?? "5", CultureInfo.InvariantCulture)),
    "native" when args.Length >= 5 => await NativeCycles.MatrixAsync(args[1], int.Parse(args[2], CultureInfo.InvariantCulture), args[3],
        int.Parse(args[4], CultureInfo.InvariantCulture), int.Parse(args.ElementAtOrDefault(5) ?? "3", CultureInfo.InvariantCulture),
        (args.ElementAtOrDefault(6) ?? "1,16").Split(',').Select(c => int.Parse(c, CultureInfo.InvariantCulture)).ToArray(), typeof(Cycles).Assembly.Location),
    "slot-worker" when args.Length == 4 => await SlotWorker.RunAsync(args[1], args[2], args[3]),
    _ => Usage(),
};

static int Usage()
{
    Console.Error.WriteLine("usage: cycles [tasks] [sqlite|redis://host:port] [concurrency] [sync|fsync] | native <binary> <tasks> <redis-url> <redis-pid> [rounds] [1,16] | makespan [seeds]");
    return 2;
}

/// <summary>
/// Workers claim and complete over HTTP as real workers do (the same client), with a runner that does nothing; each worker
/// runs <c>concurrency</c> slots at once, as <see cref="WorkerLoop"/> does, under the worker's one name.
/// </summary>
internal static class Cycles
{
    private const int Workers = 4;

    public static async Task<int> RunAsync(int count, string storeName, int concurrency, Durability durability)
    {
        using var folder = new TempFolder("corral-bench-wq-");
        await using var control = await ControlApiStub.StartAsync();
        var context = control.Context("controller", WorkQueuePlan.ControllerRole, folder.Path) with { RunId = "bench-" + Guid.NewGuid().ToString("N")[..8] };
        var config = new WorkQueueConfig
        {
            SpecList = "", SpecRoot = folder.Path, Command = ["true"], Workers = Workers, Concurrency = concurrency, Lease = TimeSpan.FromSeconds(30), Store = storeName,
            Tasks = Enumerable.Range(0, count).Select(i => new TaskDefinition
            {
                Key = $"task:bench:{i}", Group = "bench", Index = i, Ordinal = i, Spec = $"s{i % 50}.spec", Viewport = "desktop", Browser = "chrome",
            }).ToArray(),
        };
        ITaskStore store = storeName == "sqlite"
            ? SqliteTaskStore.Open(folder.Combine("workqueue.db"), context.RunId, ControllerNode.Rules(config), durability)
            : await RedisTaskStore.ConnectAsync(storeName, context.RunId, ControllerNode.Rules(config));
        await using var storeLifetime = store;
        await using var app = ControllerNode.Build(context, config, store);
        await app.Services.GetRequiredService<QueueService>().StartAsync();
        await app.StartAsync();
        var controller = new Uri($"http://127.0.0.1:{app.BoundPort()}/");

        var latencies = new List<double>[Workers * concurrency];
        var clients = Enumerable.Range(0, Workers).Select(w => new QueueClient(control.Context($"worker-{w + 1}", WorkQueuePlan.WorkerRole, folder.Path), null!,
            TimeSpan.FromSeconds(30)) { FixedController = controller }).ToArray();
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, Workers * concurrency).Select(async slot =>
        {
            await Task.Yield();
            var own = latencies[slot] = new List<double>(count / (Workers * concurrency) + 16);
            await ClaimLoop.RunAsync(clients[slot % Workers], own);
        }));
        var seconds = clock.Elapsed.TotalSeconds;
        foreach (var client in clients) client.Dispose();
        var all = latencies.SelectMany(l => l).Order().ToArray();
        var done = (await store.ListAsync()).Count(t => t.State == TaskState.Passed);
        // What one look of the progress line and the reporter costs: it reads every task (up to five times a second).
        var reading = Stopwatch.StartNew();
        for (var i = 0; i < 5; i++) await store.ListAsync();
        var readMs = reading.Elapsed.TotalMilliseconds / 5;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"store {(storeName == "sqlite" ? $"sqlite ({(durability == Durability.Fsync ? "fsync, synchronous=FULL" : "sync, synchronous=NORMAL")})" : "redis (appendfsync always)")}, concurrency {concurrency}: {done}/{count} tasks, {done / seconds:0} claim+complete cycles/s with {Workers} workers; claim (with the report before it) p50 {Percentile(all, 0.50):0.00} ms, p99 {Percentile(all, 0.99):0.00} ms; reading every task once {readMs:0} ms"));
        await app.StopAsync();
        return done == count ? 0 : 1;
    }

    private static double Percentile(double[] sorted, double p) => sorted.Length == 0 ? 0 : sorted[Math.Min(sorted.Length - 1, (int)(p * sorted.Length))];
}

/// <summary>
/// 100 tasks whose durations come from a seeded skewed (log-normal) distribution; each run draws ±20% jitter on them, so
/// history predicts a run only roughly. Run 1 (file order) teaches the store; run 2 is scheduled by the real store's claim
/// order on a virtual clock with 4 workers, once in file order (a fresh store, no history) and once longest-first.
/// </summary>
internal static class Makespan
{
    private const int Tasks = 100;
    private const int Workers = 4;

    public static async Task<int> RunAsync(int seeds)
    {
        var ratios = new List<(double FileOrder, double LongestFirst)>();
        for (var seed = 1; seed <= seeds; seed++)
        {
            var random = new Random(seed);
            var baseMs = Enumerable.Range(0, Tasks).Select(_ => 500 * Math.Exp(Normal(random) * 1.0)).ToArray();
            double[] Jitter() => baseMs.Select(d => d * (0.8 + 0.4 * random.NextDouble())).ToArray();
            var tasks = Enumerable.Range(0, Tasks).Select(i => new TaskDefinition
            {
                Key = $"task:m:{i}", Group = "m", Index = i, Ordinal = i, Spec = $"s{i}.spec", Viewport = "desktop", Browser = "chrome",
            }).ToArray();
            using var folder = new TempFolder("corral-bench-makespan-");
            await SimulateAsync(folder.Combine("history.db"), "run-1", tasks, Jitter());
            var run2 = Jitter();
            var longestFirst = await SimulateAsync(folder.Combine("history.db"), "run-2", tasks, run2);
            var fileOrder = await SimulateAsync(folder.Combine("fresh.db"), "run-2", tasks, run2);
            var bound = Math.Max(run2.Sum() / Workers, run2.Max());
            ratios.Add((fileOrder / bound, longestFirst / bound));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"seed {seed}: total {run2.Sum() / 1000:0.0} s, longest {run2.Max() / 1000:0.0} s, bound {bound / 1000:0.00} s; file order {fileOrder / 1000:0.00} s ({fileOrder / bound:0.000}×), longest-first {longestFirst / 1000:0.00} s ({longestFirst / bound:0.000}×)"));
        }

        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"mean over {seeds} seeds: file order {ratios.Average(r => r.FileOrder):0.000}× the bound (worst {ratios.Max(r => r.FileOrder):0.000}×), longest-first {ratios.Average(r => r.LongestFirst):0.000}× (worst {ratios.Max(r => r.LongestFirst):0.000}×)"));
        return 0;
    }

    /// <summary>Four workers on a virtual clock: whoever is free first claims from the store; returns the makespan in ms.</summary>
    private static async Task<double> SimulateAsync(string database, string runId, IReadOnlyList<TaskDefinition> tasks, double[] durations)
    {
        await using var store = SqliteTaskStore.Open(database, runId, new QueueRules { Lease = TimeSpan.FromDays(1) });
        await store.EnqueueAsync(tasks, 0);
        var free = new PriorityQueue<int, double>();
        for (var w = 0; w < Workers; w++) free.Enqueue(w, 0);
        var running = new List<(double End, Claim Claim, int Worker)>();
        double makespan = 0;
        while (free.TryDequeue(out var worker, out var now))
        {
            // Finish what ended by now first, so its duration is recorded in order.
            foreach (var done in running.Where(r => r.End <= now).OrderBy(r => r.End).ToArray())
            {
                await store.CompleteAsync(new Completion
                {
                    Key = done.Claim.Task.Key, Attempt = done.Claim.Attempt, Worker = $"w{done.Worker}", Result = AttemptResult.Passed,
                    DurationMs = (long)durations[done.Claim.Task.Ordinal],
                }, (long)done.End);
                running.Remove(done);
            }

            var claim = await store.ClaimAsync($"w{worker}", (long)now);
            if (claim is null) continue;
            var end = now + durations[claim.Task.Ordinal];
            running.Add((end, claim, worker));
            makespan = Math.Max(makespan, end);
            free.Enqueue(worker, end);
        }

        foreach (var done in running)
        {
            await store.CompleteAsync(new Completion
            {
                Key = done.Claim.Task.Key, Attempt = done.Claim.Attempt, Worker = $"w{done.Worker}", Result = AttemptResult.Passed,
                DurationMs = (long)durations[done.Claim.Task.Ordinal],
            }, (long)done.End);
        }

        return makespan;
    }

    private static double Normal(Random random) =>
        Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
}
