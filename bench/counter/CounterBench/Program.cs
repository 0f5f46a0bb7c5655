using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Corral.Counter.Config;
using Corral.Counter.Items;
using Corral.Counter.Store;
using Corral.Node.Storage;

// Usage: CounterBench <corral binary> [seconds]
// Prints one line per figure: raw SQLite insert rate, acknowledged distinct items/s through the coordinator
// (sync durability, 1,000-item batches, 16 clients, 4 workers; then every count is checked), and GET count
// p50/p99 under a steady 100,000 items/s.
var binary = args.Length > 0 ? Path.GetFullPath(args[0]) : throw new ArgumentException("usage: CounterBench <corral binary> [seconds]");
var seconds = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 15;
var work = Directory.CreateTempSubdirectory("corral-counter-bench-").FullName;
try
{
    RawSqlite(Path.Combine(work, "raw"));
    await ClusterAsync(binary, work, seconds);
}
finally
{
    Directory.Delete(work, recursive: true);
}

static void RawSqlite(string folder)
{
    foreach (var (batch, label) in new[] { (1_000, "1,000-item commits"), (100_000, "100,000-item commits") })
    {
        var layout = new StoreLayout(Path.Combine(folder, batch.ToString(CultureInfo.InvariantCulture)), 1);
        layout.EnsureCreated();
        using var store = PartitionStore.Open(layout, 0, "bench", Durability.Sync);
        const int total = 1_000_000;
        var stopwatch = Stopwatch.StartNew();
        for (var start = 0; start < total; start += batch)
        {
            var items = new List<Item>(batch);
            for (var i = start; i < start + batch; i++) items.Add(new Item($"item-{i}", $"tenant-{i % 1000}"));
            store.Commit(items);
        }

        Console.WriteLine($"raw SQLite (one partition, synchronous=NORMAL, {label}): {total / stopwatch.Elapsed.TotalSeconds:N0} distinct items/s");
    }
}

static async Task ClusterAsync(string binary, string work, int seconds)
{
    var topology = Path.Combine(work, "counter.yaml");
    File.WriteAllText(topology, "app: counter\nworkers: 4\npartitions: 32\ndurability: sync\nstore: store/\n");
    var info = new ProcessStartInfo(binary) { WorkingDirectory = work, RedirectStandardOutput = true, RedirectStandardError = true };
    foreach (var arg in new[] { "up", topology, "--ports", "dynamic", "--data", Path.Combine(work, "data"), "--no-dashboard" }) info.ArgumentList.Add(arg);
    info.Environment["NO_COLOR"] = "1";
    using var corral = Process.Start(info)!;
    var port = new TaskCompletionSource<int>();
    var ready = new TaskCompletionSource();
    var listens = new Regex(@"^corral\s*\| coordinator listens on http (\d+)");
    corral.OutputDataReceived += (_, e) =>
    {
        if (e.Data is null) return;
        if (listens.Match(e.Data) is { Success: true } m) port.TrySetResult(int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture));
        if (e.Data.EndsWith("| coordinator ready", StringComparison.Ordinal)) ready.TrySetResult();
    };
    corral.ErrorDataReceived += (_, _) => { };
    corral.BeginOutputReadLine();
    corral.BeginErrorReadLine();
    try
    {
        await ready.Task.WaitAsync(TimeSpan.FromSeconds(60));
        var coordinator = $"http://127.0.0.1:{await port.Task}";
        using var http = new HttpClient(new SocketsHttpHandler { UseProxy = false, MaxConnectionsPerServer = 64 }) { Timeout = TimeSpan.FromSeconds(60) };

        // Throughput: 16 clients, 1,000 distinct items a batch, as fast as acknowledged.
        var acknowledged = 0L;
        var failures = 0L;
        var warmed = 0L;
        using (var warm = new CancellationTokenSource(TimeSpan.FromSeconds(3)))
        {
            await Writers(http, coordinator, 16, "warm", null, warm.Token, () => Interlocked.Add(ref warmed, 1000), () => Interlocked.Increment(ref failures));
        }

        var stopwatch = Stopwatch.StartNew();
        using (var window = new CancellationTokenSource(TimeSpan.FromSeconds(seconds)))
        {
            await Writers(http, coordinator, 16, "max", null, window.Token, () => Interlocked.Add(ref acknowledged, 1000), () => Interlocked.Increment(ref failures));
        }

        var elapsed = stopwatch.Elapsed.TotalSeconds;
        Console.WriteLine($"coordinator, sync durability, 1,000-item batches, 16 clients, 4 workers: {acknowledged / elapsed:N0} acknowledged distinct items/s ({acknowledged:N0} in {elapsed:0.0} s, {failures} failed requests)");

        // Steady 100,000 items/s (100 batches a second) while one client reads counts back to back.
        var steadyAck = 0L;
        var latencies = new List<double>();
        using (var window = new CancellationTokenSource(TimeSpan.FromSeconds(seconds)))
        {
            var writers = Writers(http, coordinator, 16, "steady", 100, window.Token, () => Interlocked.Add(ref steadyAck, 1000), () => Interlocked.Increment(ref failures));
            var random = new Random(1);
            while (!window.IsCancellationRequested)
            {
                var started = Stopwatch.GetTimestamp();
                using var response = await http.GetAsync($"{coordinator}/items/tenant-{random.Next(1000)}/count", CancellationToken.None);
                await response.Content.ReadAsByteArrayAsync(CancellationToken.None);
                latencies.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            }

            await writers;
        }

        latencies.Sort();
        Console.WriteLine($"GET count under a steady {steadyAck / (double)seconds:N0} items/s: p50 {latencies[latencies.Count / 2]:0.00} ms, " +
            $"p99 {latencies[(int)(latencies.Count * 0.99)]:0.00} ms, max {latencies[^1]:0.00} ms ({latencies.Count:N0} reads)");

        // None lost: the counts add up to every acknowledged item (ids are distinct across the whole run).
        var total = 0L;
        for (var t = 0; t < 1000; t++)
        {
            var reply = await http.GetStringAsync($"{coordinator}/items/tenant-{t}/count");
            total += JsonDocument.Parse(reply).RootElement.GetProperty("count").GetInt64();
        }

        // Every request has finished (each writer awaits its last one), and every id is distinct: the sum must be exact.
        var sent = warmed + acknowledged + steadyAck;
        Console.WriteLine($"none lost: {(total == sent && failures == 0 ? "yes" : "NO")}; the counts add up to {total:N0} distinct items, {sent:N0} were acknowledged, {failures} requests failed");
    }
    finally
    {
        corral.Kill(entireProcessTree: true);
        await corral.WaitForExitAsync();
    }
}

// Clients posting 1,000 distinct items a batch (ids unique per run: label, client, sequence; 1,000 tenants).
// With ratePerSecond, all clients together send that many batches a second.
static Task Writers(HttpClient http, string coordinator, int clients, string label, int? ratePerSecond, CancellationToken stop, Action ok, Action failed) =>
    Task.WhenAll(Enumerable.Range(0, clients).Select(client => Task.Run(async () =>
    {
        var random = new Random(client);
        var interval = ratePerSecond is { } rate ? TimeSpan.FromSeconds(clients / (double)rate) : TimeSpan.Zero;
        var next = Stopwatch.GetTimestamp();
        for (var sequence = 0; !stop.IsCancellationRequested; sequence++)
        {
            if (interval > TimeSpan.Zero)
            {
                next += (long)(interval.TotalSeconds * Stopwatch.Frequency);
                var wait = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), next);
                if (wait > TimeSpan.Zero)
                {
                    try { await Task.Delay(wait, stop); } catch (OperationCanceledException) { return; }
                }
            }

            var items = new Item[1000];
            for (var i = 0; i < items.Length; i++) items[i] = new Item($"{label}-{client}-{sequence}-{i}", $"tenant-{random.Next(1000)}");
            try
            {
                using var content = new ByteArrayContent(ItemBatchWriter.Write(items));
                using var response = await http.PostAsync($"{coordinator}/items", content, CancellationToken.None);
                if (response.StatusCode == HttpStatusCode.OK) ok(); else failed();
            }
            catch (HttpRequestException)
            {
                failed();
            }
        }
    })));
