using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Xunit.Abstractions;

namespace Corral.EndToEnd.Tests.Counter;

/// <summary>
/// The real CLI runs the counter: real coordinator and worker processes, real SQLite files, real SIGKILLs. Every run
/// uses dynamic ports and its own temp folder (the store sits in it).
/// </summary>
[Collection(EndToEnd.Collection)]
public sealed class CounterRunTests(ITestOutputHelper output) : IDisposable
{
    /// <summary>Items the chaos test sends; <c>CORRAL_COUNTER_CHAOS_ITEMS=1000000</c> scales it up.</summary>
    private static readonly int ChaosItems = int.TryParse(Environment.GetEnvironmentVariable("CORRAL_COUNTER_CHAOS_ITEMS"), NumberStyles.None,
        CultureInfo.InvariantCulture, out var items) && items > 0 ? items : 50_000;

    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(90);
    private readonly TempFolder _folder = new();
    private readonly HttpClient _http = new(new SocketsHttpHandler { UseProxy = false }) { Timeout = TimeSpan.FromSeconds(30) };

    public void Dispose()
    {
        _http.Dispose();
        _folder.Dispose();
    }

    private CorralProcess Up(string topology) =>
        CorralProcess.Start(_folder.Path, ["up", topology, "--ports", "dynamic", "--data", Path.Combine(_folder.Path, "data"), "--no-dashboard"]);

    private static async Task<int> ReadyCoordinatorAsync(CorralProcess corral)
    {
        await corral.WaitForLineAsync(l => l.StartsWith("corral") && l.EndsWith("| coordinator ready"), Bound, "the coordinator to be ready");
        return await corral.WaitForPortAsync("coordinator", "http", Bound);
    }

    private static async Task StopAsync(CorralProcess corral)
    {
        corral.Signal(Posix.SigInt);
        Assert.Equal(130, await corral.WaitForExitAsync(Bound));
    }

    private async Task<long> CountAsync(int port, string tenant, CancellationToken cancellationToken = default)
    {
        using var response = await _http.GetAsync($"http://127.0.0.1:{port}/items/{tenant}/count", cancellationToken);
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"GET count of {tenant}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync(cancellationToken)}");
        return (await response.Content.ReadFromJsonAsync<JsonElement>(cancellationToken)).GetProperty("count").GetInt64();
    }

    /// <summary>Every tenant's count through the coordinator, eight at a time, against the reference.</summary>
    private async Task AssertCountsAsync(int port, Dictionary<string, HashSet<string>> reference)
    {
        var wrong = new System.Collections.Concurrent.ConcurrentQueue<string>();
        await Parallel.ForEachAsync(reference, new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (tenant, ct) =>
        {
            var count = await CountAsync(port, tenant.Key, ct);
            if (count != tenant.Value.Count) wrong.Enqueue($"{tenant.Key}: {count}, expected {tenant.Value.Count}");
        });
        Assert.True(wrong.IsEmpty, $"{wrong.Count} of {reference.Count} tenants have a wrong count: {string.Join("; ", wrong.Take(10))}");
    }

    [Fact]
    public async Task The_originals_config_yaml_runs_its_sanity_flow_and_the_counts_survive_a_stop_and_start()
    {
        var config = _folder.Write("config.yaml", File.ReadAllText(CorralBinary.Example(Path.Combine("originals", "counter-003-config.yaml"))));
        const string sanity = """[{"id":"1","tenant":"t1"},{"id":"2","tenant":"t2"},{"id":"2","tenant":"t3"},{"id":"4","tenant":"t1"}]""";
        await using (var corral = Up(config))
        {
            var port = await ReadyCoordinatorAsync(corral);
            using var posted = await _http.PostAsync($"http://127.0.0.1:{port}/items", new StringContent(sanity, Encoding.UTF8, "application/json"));
            Assert.Equal(HttpStatusCode.OK, posted.StatusCode);
            Assert.Equal("""{"accepted":4}""", await posted.Content.ReadAsStringAsync());
            // The very next read, not eventually.
            Assert.Equal(2, await CountAsync(port, "t1"));

            // The original wrote a tenant named ../x outside its folder; here it is refused and nothing is written.
            using var escape = await _http.PostAsync($"http://127.0.0.1:{port}/items", new StringContent("""[{"id":"1","tenant":"../x"}]"""));
            Assert.Equal(HttpStatusCode.BadRequest, escape.StatusCode);
            Assert.Contains(corral.Lines, l => l.Contains("durability sync") && l.Contains("the original's worker_persist (5 s) only sets the interval"));

            // Hot reload of the original's file: the store cannot move while it runs; a fifth URL starts one more worker only.
            var original = File.ReadAllText(config);
            File.WriteAllText(config, original.Replace("database: db/", "database: elsewhere/"));
            await corral.WaitForLineAsync(l => l.Contains("reload rejected, the running plan stays: the store's folder changed"), Bound, "the store move to be refused");
            File.WriteAllText(config, original.Replace("    - http://localhost:5004\n", "    - http://localhost:5004\n    - http://localhost:5005\n"));
            await corral.WaitForLineAsync(l => l.StartsWith("coordinator") && l.Contains("membership Joined worker-5"), Bound, "worker-5 to join");
            Assert.All(Enumerable.Range(1, 4), i => Assert.Single(corral.PidsOf($"worker-{i}")));
            Assert.False(Directory.Exists(Path.Combine(_folder.Path, "elsewhere")));
            Assert.Equal(2, await CountAsync(port, "t1"));

            // The original's /kill: it needs the operator's (or the coordinator's) credential, the worker drains, and one still in the config comes back.
            var worker2 = await corral.WaitForPortAsync("worker-2", "http", Bound);
            using var anonymous = await _http.PostAsync($"http://127.0.0.1:{worker2}/kill", null);
            Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
            using var kill = new HttpRequestMessage(HttpMethod.Get, $"http://127.0.0.1:{worker2}/kill");
            kill.Headers.Authorization = new("Bearer", corral.OperatorCredential());
            using (var killed = await _http.SendAsync(kill)) Assert.Equal(HttpStatusCode.Accepted, killed.StatusCode);
            await Eventually.TrueAsync(() => corral.PidsOf("worker-2").Count == 2, Bound, "the supervisor to start worker-2 again");
            Assert.Contains(corral.Lines, l => l.StartsWith("worker-2") && l.Contains("gracefully killing worker worker-2"));
            Assert.Equal(2, await CountAsync(port, "t1"));
            await StopAsync(corral);
        }

        Assert.True(File.Exists(Path.Combine(_folder.Path, "db", "counter.db")), "the store is not in the original's database folder");
        Assert.False(File.Exists(Path.Combine(_folder.Path, "x")));
        // One log per worker, named by node id under --ports dynamic (a restarted node is given its port, and names its log by it).
        Assert.All(Enumerable.Range(1, 5), i => Assert.True(File.Exists(Path.Combine(_folder.Path, "logs", $"worker-{i}")), $"no log for worker-{i}"));
        Assert.Contains("worker worker-1 up", File.ReadAllText(Path.Combine(_folder.Path, "logs", "worker-1")));

        await using (var again = Up(config))
        {
            var port = await ReadyCoordinatorAsync(again);
            Assert.Equal(2, await CountAsync(port, "t1"));
            Assert.Equal(1, await CountAsync(port, "t2"));
            await StopAsync(again);
        }
    }

    [Fact]
    public async Task Under_random_SIGKILLs_of_workers_every_tenants_count_equals_its_distinct_items()
    {
        var topology = _folder.Write("counter.yaml", """
            app: counter
            workers: 4
            partitions: 32
            store: store/
            forward-timeout: 2s
            retry-budget: 20s
            restarts:
              worker: 1000
            """);
        await using var corral = Up(topology);
        var port = await ReadyCoordinatorAsync(corral);
        var (batches, reference) = CounterLoad.Plan(ChaosItems, tenants: 1000, batchSize: 100, seed: 3);
        var random = new Random(5);
        var kills = 0;
        var started = DateTime.UtcNow;
        // Paced to last at least 8 s, so about eight kills land while items flow (a larger run is as fast as it can go).
        await using (var load = CounterLoad.Start(port, batches, clients: 8, retry: true, deadline: TimeSpan.FromSeconds(60 + ChaosItems / 2_000),
            itemsPerSecond: ChaosItems / 8.0))
        {
            // A random worker is SIGKILLed about every second while the clients run (the supervisor restarts it).
            while (!load.Finished)
            {
                await Task.WhenAny(load.CompletedAsync(), Task.Delay(TimeSpan.FromMilliseconds(700 + random.Next(600))));
                if (load.Finished) break;
                var victim = $"worker-{random.Next(1, 5)}";
                if (corral.PidsOf(victim) is { Count: > 0 } pids && Posix.IsAlive(pids[^1]))
                {
                    await Posix.KillAsync(pids[^1], TimeSpan.FromSeconds(10));
                    kills++;
                }
            }

            await load.CompletedAsync();
            Assert.Equal(ChaosItems, load.Acknowledged);
            output.WriteLine($"{ChaosItems} items acknowledged in {(DateTime.UtcNow - started).TotalSeconds:0.0} s with {kills} workers SIGKILLed and {load.Retries} batch retries");
        }

        Assert.True(kills >= 3, $"only {kills} workers were killed while the load ran: the load ended too soon to test anything");
        await AssertCountsAsync(port, reference);
        await StopAsync(corral);
    }

    [Fact]
    public async Task A_worker_added_and_one_removed_by_editing_the_topology_under_load_cost_no_request_and_no_count()
    {
        static string Topology(int workers) => $"""
            app: counter
            workers: {workers}
            partitions: 32
            store: store/
            """;
        var topology = _folder.Write("counter.yaml", Topology(3));
        await using var corral = Up(topology);
        var port = await ReadyCoordinatorAsync(corral);
        var (batches, reference) = CounterLoad.Plan(30_000, tenants: 1000, batchSize: 50, seed: 11);
        // 1,000 items/s, so 30 s of load: it must outlast a worker's start, its takeover and its drain, which take several
        // seconds each with both cores busy (10 s of load did not always).
        await using (var load = CounterLoad.Start(port, batches, clients: 4, retry: false, itemsPerSecond: 1_000))
        {
            await Eventually.TrueAsync(() => load.Acknowledged > 3_000 || load.Finished, Bound, "load to flow");
            File.WriteAllText(topology, Topology(4));
            await corral.WaitForLineAsync(l => l.StartsWith("coordinator") && l.Contains("membership Joined worker-4"), Bound, "worker-4 to join the coordinator's routing");
            await Eventually.TrueAsync(() => corral.Lines.Any(l => l.StartsWith("worker-4") && l.Contains("opened at epoch")) || load.Finished, Bound, "worker-4 to take over partitions");

            var worker4 = corral.PidsOf("worker-4")[^1];
            File.WriteAllText(topology, Topology(3));
            await Eventually.TrueAsync(() => !Posix.IsAlive(worker4), Bound, "worker-4 to drain and exit");
            Assert.False(load.Finished, "the load ended before worker-4 had joined and left: the test saw no reload under load");
            await load.CompletedAsync();
            Assert.True(load.Failures.Count == 0, $"{load.Failures.Count} requests failed: {string.Join(" | ", load.Failures.Take(5))}");
            Assert.Equal(30_000, load.Acknowledged);
        }

        // The old owners let go of what worker-4 won (their queued commits finished first), and worker-4 of all it held.
        Assert.Contains(corral.Lines, l => l.StartsWith("worker-") && l.Contains("drained and closed: worker-4 owns it now"));
        Assert.Contains(corral.Lines, l => l.StartsWith("worker-4") && l.Contains("drained and closed: the worker is draining"));
        await AssertCountsAsync(port, reference);
        await StopAsync(corral);
    }
}
