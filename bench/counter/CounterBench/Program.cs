using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using System.Text.RegularExpressions;
using Corral.Bench;
using Corral.Counter.Config;
using Corral.Counter.Items;
using Corral.Counter.Store;
using Corral.Node.Storage;

// Usage: CounterBench <corral binary> [seconds per window, default 10] [rounds, default 3] [NAME=VALUE;... for a second cluster]
// One interleaved run: each round measures, in turn, redis-benchmark SADD (16 clients, without and with pipelining;
// redis-server's own CPU), raw SQLite (one partition file, 1,000-item commits; this process's CPU), Corral at full speed
// (acknowledged distinct items/s, sync durability, 1,000-item batches, 16 clients, 4 workers, the default partition
// count) and Corral under a steady 100,000 items/s while one client reads counts back to back (GET p50/p99). CPU µs per
// item is the utime + stime the servers' processes used in the window over the items they took. Then every tenant's
// count is checked against what the bench saw acknowledged, and the medians are printed as a table. With a fourth
// argument a second cluster runs beside the first with those environment variables in its nodes (a runtime setting
// tried against the default), its windows interleaved with the first's.
var binary = args.Length > 0 ? Path.GetFullPath(args[0]) : throw new ArgumentException("usage: CounterBench <corral binary> [seconds] [rounds]");
var seconds = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 10;
var rounds = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 3;
var work = Directory.CreateTempSubdirectory("corral-counter-bench-").FullName;
var results = new List<(string Row, double Rate, double CpuUs, string Extra)>();
try
{
    await using var redis = await Redis.StartAsync(work);
    // Fixed ports below 32768: the coordinator on 5000 + offset (24000-24950), its workers next to it, the control API on 7999 + offset.
    var offset = 19000 + 100 * Random.Shared.Next(10);
    await using var cluster = await Cluster.StartAsync(binary, Directory.CreateDirectory(Path.Combine(work, "a")).FullName, "", offset);
    await using var variant = args.Length > 3 ? await Cluster.StartAsync(binary, Directory.CreateDirectory(Path.Combine(work, "b")).FullName, args[3], offset + 50) : null;
    Console.WriteLine($"{rounds} interleaved rounds, {seconds} s windows; {Environment.ProcessorCount} cores, load average {File.ReadAllText("/proc/loadavg")[..14]}");
    await cluster.WarmAsync();
    if (variant is not null) await variant.WarmAsync();
    for (var round = 1; round <= rounds; round++)
    {
        Record(round, redis.Sadd(pipeline: 1, requests: 40_000 * seconds));
        Record(round, redis.Sadd(pipeline: 1000, requests: 400_000 * seconds));
        Record(round, RawSqlite.Run(Path.Combine(work, $"raw-{round}"), items: 20_000 * seconds));
        Record(round, await cluster.FullSpeedAsync(seconds));
        Record(round, await cluster.SteadyAsync(seconds, batchesPerSecond: 100));
        if (variant is null) continue;
        Record(round, await variant.FullSpeedAsync(seconds));
        Record(round, await variant.SteadyAsync(seconds, batchesPerSecond: 100));
    }

    var exact = await cluster.CheckCountsAsync() + (variant is null ? "" : "\n" + await variant.CheckCountsAsync());
    Console.WriteLine();
    Console.WriteLine($"| figure (median of {rounds}) | items/s | CPU µs per item | |");
    Console.WriteLine("|---|---:|---:|---|");
    foreach (var row in results.Select(r => r.Row).Distinct())
    {
        var runs = results.Where(r => r.Row == row).ToArray();
        var rate = Median(runs.Select(r => r.Rate));
        var cpu = Median(runs.Select(r => r.CpuUs));
        // The other figures of the run whose rate is the median one.
        var extra = runs.OrderBy(r => r.Rate).ElementAt((runs.Length - 1) / 2).Extra;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {row} | {rate:N0} | {cpu:0.00} | {extra} |"));
    }

    Console.WriteLine();
    Console.WriteLine(exact);
    return exact.Contains("NOT EXACT", StringComparison.Ordinal) ? 1 : 0;
}
finally
{
    Directory.Delete(work, recursive: true);
}

void Record(int round, (string Row, double Rate, double CpuUs, string Extra) result)
{
    results.Add(result);
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  round {round}  {result.Row}: {result.Rate:N0} items/s, {result.CpuUs:0.00} CPU µs per item  {result.Extra}"));
}

static double Median(IEnumerable<double> values)
{
    var sorted = values.Order().ToArray();
    return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
}

/// <summary>A throwaway redis-server (no persistence: the ceiling, not a durable peer) that dies with this process.</summary>
internal sealed class Redis : IAsyncDisposable
{
    private readonly Process _server;
    private readonly int _port;

    private Redis(Process server, int port) => (_server, _port) = (server, port);

    public static async Task<Redis> StartAsync(string work)
    {
        var port = 21000 + Random.Shared.Next(2000);
        var folder = Directory.CreateDirectory(Path.Combine(work, "redis")).FullName;
        // setpriv execs redis-server in place, so the pid is the server's; it is killed when this process dies.
        var server = Start("setpriv", "--pdeathsig", "KILL", "redis-server", "--bind", "127.0.0.1", "--port", port.ToString(CultureInfo.InvariantCulture),
            "--save", "", "--appendonly", "no", "--dir", folder);
        for (var i = 0; i < 100; i++)
        {
            try
            {
                using var probe = new TcpClient();
                await probe.ConnectAsync(IPAddress.Loopback, port);
                return new Redis(server, port);
            }
            catch (SocketException)
            {
                await Task.Delay(100);
            }
        }

        throw new InvalidOperationException($"redis-server did not listen on {port}: {await server.StandardError.ReadToEndAsync()}");
    }

    /// <summary>
    /// <c>redis-benchmark -t sadd</c>, 16 clients, members drawn from 10^9 (so nearly all are new): one SADD adds one item.
    /// CPU is redis-server's own over the run; the benchmark client's is not counted (as the bench's clients are not for Corral).
    /// </summary>
    public (string, double, double, string) Sadd(int pipeline, int requests)
    {
        var before = ProcessCpu.Seconds(_server.Id);
        using var bench = Start("redis-benchmark", "-p", _port.ToString(CultureInfo.InvariantCulture), "-c", "16", "-n", requests.ToString(CultureInfo.InvariantCulture),
            "-P", pipeline.ToString(CultureInfo.InvariantCulture), "-r", "1000000000", "-t", "sadd", "--csv");
        var output = bench.StandardOutput.ReadToEnd();
        bench.WaitForExit();
        var cpu = ProcessCpu.Seconds(_server.Id) - before;
        // --csv: a header line, then "SADD","<requests per second>",...
        var line = output.Split('\n').First(l => l.StartsWith("\"SADD\"", StringComparison.Ordinal));
        var rate = double.Parse(line.Split(',')[1].Trim('"'), CultureInfo.InvariantCulture);
        return ($"`redis-benchmark` SADD, 16 clients, {(pipeline == 1 ? "no pipelining" : $"pipeline {pipeline:N0}")} (redis-server's CPU; no persistence)", rate, cpu * 1e6 / requests, "");
    }

    internal static Process Start(string file, params string[] args)
    {
        var info = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in args) info.ArgumentList.Add(arg);
        return Process.Start(info)!;
    }

    public async ValueTask DisposeAsync()
    {
        _server.Kill();
        await _server.WaitForExitAsync();
        _server.Dispose();
    }
}

/// <summary>Raw SQLite: Corral's own partition store in this process, one file, no HTTP, no JSON.</summary>
internal static class RawSqlite
{
    public static (string, double, double, string) Run(string folder, int items)
    {
        const int batch = 1_000;
        var layout = new StoreLayout(folder, 1);
        layout.EnsureCreated();
        using var store = PartitionStore.Open(layout, 0, "bench", Durability.Sync);
        var batches = Enumerable.Range(0, items / batch)
            .Select(b => Enumerable.Range(b * batch, batch).Select(i => new Item($"item-{i}", $"tenant-{i % 1000}")).ToList()).ToArray();
        var before = ProcessCpu.Seconds(Environment.ProcessId);
        var stopwatch = Stopwatch.StartNew();
        foreach (var items1000 in batches) store.Commit(items1000);
        var elapsed = stopwatch.Elapsed.TotalSeconds;
        var cpu = ProcessCpu.Seconds(Environment.ProcessId) - before;
        return ("raw SQLite, one partition file, `synchronous=NORMAL`, 1,000-item commits over 1,000 tenants (this process's CPU)", items / elapsed, cpu * 1e6 / items, "");
    }
}

/// <summary>A real <c>corral up</c> of the counter (native binary, 4 workers, the default partition count, sync durability).</summary>
internal sealed partial class Cluster : IAsyncDisposable
{
    private const int Tenants = 1000;
    private const int Clients = 16;
    private const int BatchItems = 1000;

    private readonly Process _corral;
    private readonly HttpClient _http = new(new SocketsHttpHandler { UseProxy = false, MaxConnectionsPerServer = 64 }) { Timeout = TimeSpan.FromSeconds(60) };
    private readonly string _coordinator;
    private readonly int[] _servers;

    // What the bench saw acknowledged, per tenant: ids are distinct over the whole run, so each tenant's count must equal this.
    private readonly long[] _acknowledged = new long[Tenants];
    private long _failures;
    private int _writerRuns;

    private readonly string _label;

    private Cluster(Process corral, string coordinator, int[] servers, string label) =>
        (_corral, _coordinator, _servers, _label) = (corral, coordinator, servers, label);

    /// <param name="environment">NAME=VALUE;... set in the nodes' environment (empty: as they are).</param>
    /// <param name="portOffset">Shifts the roles' default ports (coordinator 5000, workers 5001-5004, control API 7999).</param>
    public static async Task<Cluster> StartAsync(string binary, string work, string environment, int portOffset)
    {
        var topology = Path.Combine(work, "counter.yaml");
        File.WriteAllText(topology, "app: counter\nworkers: 4\ndurability: sync\nstore: store/\n");
        var info = new ProcessStartInfo(binary) { WorkingDirectory = work, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in new[] { "up", topology, "--port-offset", portOffset.ToString(CultureInfo.InvariantCulture), "--data", Path.Combine(work, "data"), "--no-dashboard" })
        {
            info.ArgumentList.Add(arg);
        }

        info.Environment["NO_COLOR"] = "1";
        foreach (var setting in environment.Split(';', StringSplitOptions.RemoveEmptyEntries))
        {
            info.Environment[setting[..setting.IndexOf('=')]] = setting[(setting.IndexOf('=') + 1)..];
        }

        var corral = Process.Start(info)!;
        var ready = new TaskCompletionSource();
        var servers = new List<int>();
        corral.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null) return;
            if (Started().Match(e.Data) is { Success: true } s) lock (servers) servers.Add(int.Parse(s.Groups["pid"].Value, CultureInfo.InvariantCulture));
            if (e.Data.EndsWith("| coordinator ready", StringComparison.Ordinal)) ready.TrySetResult();
        };
        corral.ErrorDataReceived += (_, _) => { };
        corral.BeginOutputReadLine();
        corral.BeginErrorReadLine();
        await ready.Task.WaitAsync(TimeSpan.FromSeconds(60));
        var coordinator = $"http://127.0.0.1:{5000 + portOffset}";
        lock (servers)
        {
            if (servers.Count != 5) throw new InvalidOperationException($"expected the pids of the coordinator and 4 workers, saw {servers.Count}");
            return new Cluster(corral, coordinator, servers.ToArray(), environment.Length == 0 ? "Corral" : $"Corral with {environment}");
        }
    }

    [GeneratedRegex(@"^corral\s*\| (coordinator|worker-\d+) started \(pid (?<pid>\d+)\)")]
    private static partial Regex Started();

    /// <summary>Three seconds at full speed: every partition opened, the JIT of the clients done.</summary>
    public async Task WarmAsync()
    {
        using var warm = new CancellationTokenSource(TimeSpan.FromSeconds(3));
        await WritersAsync(null, warm.Token);
    }

    public async Task<(string, double, double, string)> FullSpeedAsync(int seconds)
    {
        var before = ProcessCpu.Seconds(_servers);
        var stopwatch = Stopwatch.StartNew();
        using var window = new CancellationTokenSource(TimeSpan.FromSeconds(seconds));
        var items = await WritersAsync(null, window.Token);
        var elapsed = stopwatch.Elapsed.TotalSeconds;
        var cpu = ProcessCpu.Seconds(_servers) - before;
        return ($"{_label}: acknowledged distinct items/s, `durability: sync`, 1,000-item batches, {Clients} clients, 4 workers (coordinator's and workers' CPU)",
            items / elapsed, cpu * 1e6 / items, $"{items:N0} in {elapsed:0.0} s, {Interlocked.Read(ref _failures)} failed requests so far");
    }

    /// <summary>A steady rate of batches while one client reads counts back to back: the read latency a user sees under load.</summary>
    public async Task<(string, double, double, string)> SteadyAsync(int seconds, int batchesPerSecond)
    {
        var before = ProcessCpu.Seconds(_servers);
        var stopwatch = Stopwatch.StartNew();
        var latencies = new List<double>();
        long items;
        using (var window = new CancellationTokenSource(TimeSpan.FromSeconds(seconds)))
        {
            var writers = WritersAsync(batchesPerSecond, window.Token);
            var random = new Random(1);
            while (!window.IsCancellationRequested)
            {
                var started = Stopwatch.GetTimestamp();
                using var response = await _http.GetAsync($"{_coordinator}/items/tenant-{random.Next(Tenants)}/count", CancellationToken.None);
                await response.Content.ReadAsByteArrayAsync(CancellationToken.None);
                latencies.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            }

            items = await writers;
        }

        var elapsed = stopwatch.Elapsed.TotalSeconds;
        var cpu = ProcessCpu.Seconds(_servers) - before;
        latencies.Sort();
        return ($"{_label} under a steady {batchesPerSecond * BatchItems:N0} items/s, one client reading counts back to back (CPU per item written)",
            items / elapsed, cpu * 1e6 / items,
            string.Create(CultureInfo.InvariantCulture,
                $"GET count p50 {latencies[latencies.Count / 2]:0.00} ms, **p99 {latencies[(int)(latencies.Count * 0.99)]:0.00} ms**, max {latencies[^1]:0.00} ms ({latencies.Count:N0} reads)"));
    }

    /// <summary>Every tenant's count, read through the coordinator, against what was acknowledged for it.</summary>
    public async Task<string> CheckCountsAsync()
    {
        var wrong = new List<string>();
        long total = 0, expected = 0;
        for (var t = 0; t < Tenants; t++)
        {
            var reply = await _http.GetStringAsync($"{_coordinator}/items/tenant-{t}/count");
            var count = JsonDocument.Parse(reply).RootElement.GetProperty("count").GetInt64();
            total += count;
            expected += _acknowledged[t];
            if (count != _acknowledged[t]) wrong.Add($"tenant-{t}: {count} counted, {_acknowledged[t]} acknowledged");
        }

        var failures = Interlocked.Read(ref _failures);
        return wrong.Count == 0 && failures == 0
            ? $"{_label}: every count exact: each of the {Tenants:N0} tenants' counts equals the distinct items acknowledged for it ({total:N0} in all), 0 failed requests"
            : $"{_label}: NOT EXACT: {wrong.Count} tenants differ ({string.Join("; ", wrong.Take(5))}), {total:N0} counted against {expected:N0} acknowledged, {failures} failed requests";
    }

    /// <summary>
    /// 16 clients posting 1,000 distinct items a batch (ids unique over the run: label, client, sequence; 1,000 tenants),
    /// as fast as acknowledged, or together <paramref name="batchesPerSecond"/>. Returns the items acknowledged.
    /// </summary>
    private async Task<long> WritersAsync(int? batchesPerSecond, CancellationToken stop)
    {
        var label = Interlocked.Increment(ref _writerRuns);
        var counts = await Task.WhenAll(Enumerable.Range(0, Clients).Select(client => Task.Run(async () =>
        {
            var random = new Random(label * 100 + client);
            var interval = batchesPerSecond is { } rate ? Clients / (double)rate : 0;
            var next = Stopwatch.GetTimestamp();
            var tenants = new int[BatchItems];
            var items = new Item[BatchItems];
            long acknowledged = 0;
            for (var sequence = 0; !stop.IsCancellationRequested; sequence++)
            {
                if (interval > 0)
                {
                    next += (long)(interval * Stopwatch.Frequency);
                    var wait = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), next);
                    if (wait > TimeSpan.Zero)
                    {
                        try { await Task.Delay(wait, stop); } catch (OperationCanceledException) { break; }
                    }
                }

                for (var i = 0; i < items.Length; i++)
                {
                    tenants[i] = random.Next(Tenants);
                    items[i] = new Item($"{label}-{client}-{sequence}-{i}", $"tenant-{tenants[i]}");
                }

                try
                {
                    using var content = new ByteArrayContent(ItemBatchWriter.Write(items));
                    using var response = await _http.PostAsync($"{_coordinator}/items", content, CancellationToken.None);
                    if (response.StatusCode != HttpStatusCode.OK)
                    {
                        Interlocked.Increment(ref _failures);
                        continue;
                    }
                }
                catch (HttpRequestException)
                {
                    Interlocked.Increment(ref _failures);
                    continue;
                }

                foreach (var t in tenants) Interlocked.Increment(ref _acknowledged[t]);
                acknowledged += BatchItems;
            }

            return acknowledged;
        })));
        return counts.Sum();
    }

    public async ValueTask DisposeAsync()
    {
        _http.Dispose();
        _corral.Kill(entireProcessTree: true);
        await _corral.WaitForExitAsync();
        _corral.Dispose();
    }
}
