using System.CommandLine;
using System.Diagnostics;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Corral.Node.Metrics;

namespace Corral.Bench;

/// <summary>
/// A peer-mode shootout under `corral up` with its throwaway etcd: committed shots/s through etcd, the share of shot
/// transactions lost to a conflict (and retried), the latency of a committed shot (decision to commit, retries
/// included) from every cowboy's <c>/peer/stats</c> over a window, the CPU per committed shot of the cowboys and of
/// etcd, then the leader SIGKILLed a few times: seconds until the next cowboy announces it leads. With
/// <c>--bare</c>, each repetition also runs <see cref="BareEtcdLoop"/> (what etcd itself sustains for a shot's
/// transaction at the same concurrency), interleaved with the builds, and the medians close the table.
/// </summary>
internal static partial class PeerScenario
{
    public static Command Command()
    {
        var cowboys = new Option<int>("--cowboys") { DefaultValueFactory = _ => 20 };
        var seconds = new Option<int>("--seconds") { DefaultValueFactory = _ => 15 };
        var tick = new Option<string>("--tick") { DefaultValueFactory = _ => "0" };
        var failovers = new Option<int>("--failovers") { DefaultValueFactory = _ => 3 };
        var repeat = new Option<int>("--repeat") { DefaultValueFactory = _ => 1, Description = "runs of each target, interleaved; medians follow when above 1" };
        var bare = new Option<bool>("--bare") { Description = "also run the bare dotnet-etcd loop (a shot's transaction alone, and read + transaction)" };
        var noSpin = new Option<bool>("--no-spin-too")
        {
            Description = $"also run each build with {NoSpin} in the environment of `corral up`, which its nodes inherit: the thread pool's workers then sleep at once instead of spinning first",
        };
        var binary = CorralBinary.Option();
        var command = new Command("peer", "Peer mode through etcd: shots/s beside bare etcd, conflict-retry rate, CPU per shot, p99 shot latency, leader fail-over.")
        {
            cowboys, seconds, tick, failovers, repeat, bare, noSpin, binary,
        };
        command.SetAction(async (r, _) =>
        {
            var n = r.GetValue(cowboys);
            var duration = TimeSpan.FromSeconds(r.GetValue(seconds));
            var rows = new List<Row>();
            Console.WriteLine($"load average at start: {File.ReadAllText("/proc/loadavg").Trim()}");
            Console.WriteLine(Row.Header);
            Console.WriteLine(Row.Rule);
            for (var i = 0; i < r.GetValue(repeat); i++)
            {
                if (r.GetValue(bare))
                {
                    foreach (var read in new[] { false, true })
                    {
                        var result = await BareEtcdLoop.RunAsync(n, TimeSpan.FromSeconds(3), duration, read);
                        rows.Add(new Row(read ? "bare etcd: read + txn" : "bare etcd: txn", n, "-", result.TxnPerSecond, 0, result.P50Ms, result.P99Ms,
                            result.ClientCpuMicros, result.EtcdCpuMicros, ""));
                        Console.WriteLine(rows[^1]);
                    }
                }

                foreach (var b in CorralBinary.Parse(r.GetValue(binary)!))
                {
                    foreach (var spin in r.GetValue(noSpin) ? new[] { true, false } : [true])
                    {
                        var environment = spin ? new Dictionary<string, string>() : new Dictionary<string, string> { [NoSpin] = "0" };
                        rows.Add(await RunAsync(spin ? b : b with { Label = $"{b.Label}, {NoSpin}=0" }, environment, n, duration, r.GetValue(tick)!, r.GetValue(failovers)));
                        Console.WriteLine(rows[^1]);
                    }
                }
            }

            if (r.GetValue(repeat) > 1)
            {
                Console.WriteLine();
                Console.WriteLine($"medians of {r.GetValue(repeat)} (load average at end: {File.ReadAllText("/proc/loadavg").Trim()}):");
                Console.WriteLine(Row.Header);
                Console.WriteLine(Row.Rule);
                foreach (var g in rows.GroupBy(x => x.Label)) Console.WriteLine(Row.Median(g.ToArray()));
            }

            return 0;
        });
        return command;
    }

    /// <summary>One run's figures; CPU per committed shot (or transaction) of the shooters' processes and of etcd.</summary>
    private sealed record Row(string Label, int Shooters, string Tick, double PerSecond, double ConflictsPerShot, double P50Ms, double P99Ms,
        double ShooterCpuMicros, double EtcdCpuMicros, string Failovers)
    {
        public const string Header =
            "| target | shooters | tick | committed shots (txn)/s | conflict retries per shot | p50 ms | p99 ms | shooters' CPU µs per shot | etcd CPU µs per shot | leader fail-over s |";

        public const string Rule = "|---|---:|---|---:|---:|---:|---:|---:|---:|---|";

        public override string ToString() =>
            $"| {Label} | {Shooters} | {Tick} | {PerSecond:0} | {ConflictsPerShot:0.00} | {P50Ms:0.0} | {P99Ms:0.0} | {ShooterCpuMicros:0} | {EtcdCpuMicros:0} | {Failovers} |";

        public static Row Median(Row[] rows)
        {
            static double M(IEnumerable<double> values)
            {
                var sorted = values.Order().ToArray();
                return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
            }

            return new Row(rows[0].Label, rows[0].Shooters, rows[0].Tick, M(rows.Select(r => r.PerSecond)), M(rows.Select(r => r.ConflictsPerShot)),
                M(rows.Select(r => r.P50Ms)), M(rows.Select(r => r.P99Ms)), M(rows.Select(r => r.ShooterCpuMicros)), M(rows.Select(r => r.EtcdCpuMicros)),
                string.Join("; ", rows.Select(r => r.Failovers).Where(f => f.Length > 0)));
        }
    }

    /// <summary>The runtime's setting for how long an idle thread-pool worker spins before it sleeps.</summary>
    private const string NoSpin = "DOTNET_ThreadPool_UnfairSemaphoreSpinLimit";

    private static async Task<Row> RunAsync(CorralBinary binary, IReadOnlyDictionary<string, string> environment, int cowboys, TimeSpan duration, string tick,
        int failovers)
    {
        var folder = Directory.CreateTempSubdirectory("corral-bench-peer-").FullName;
        var topology = new StringBuilder($"app: shootout\nmode: peer\ntick: {tick}\nseed: 1\nrounds: 1\nrestarts: {{cowboy: 20}}\ncowboys:\n");
        for (var i = 1; i <= cowboys; i++) topology.Append($"  - {{name: c{i}, health: 1000000, damage: 1}}\n");
        var file = Path.Combine(folder, "peer.yaml");
        await File.WriteAllTextAsync(file, topology.ToString());
        try
        {
            await using var run = CorralRun.Start(binary, folder, environment, "up", file, "--ports", "dynamic", "--data", folder);
            await run.WaitForAsync(l => l.Contains("Round 1 started"), TimeSpan.FromMinutes(3));
            var ports = run.Lines.Select(l => CowboyPort().Match(l.Line)).Where(m => m.Success)
                .GroupBy(m => m.Groups["node"].Value).Select(g => int.Parse(g.Last().Groups["port"].Value)).ToArray();
            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
            await Task.Delay(TimeSpan.FromSeconds(3)); // warm-up
            var cowboyPids = run.PidsOf("cowboy");
            var etcdPid = run.PidsOf("etcd", exact: true).Concat(run.PidsOf("etcd")).Last(); // node "etcd" (a run of the managed etcd)
            var cpuBefore = cowboyPids.ToDictionary(p => p, ProcessCpu.Seconds);
            var etcdBefore = ProcessCpu.Seconds(etcdPid);
            var before = await StatsAsync(http, ports);
            await Task.Delay(duration);
            var after = await StatsAsync(http, ports);
            // A cowboy restarted within the window (none, in a healthy run) is left out rather than counted negative.
            var cowboyCpu = cpuBefore.Sum(p => ProcessCpu.Seconds(p.Key) is var now && now >= p.Value && p.Value > 0 ? now - p.Value : 0);
            var etcdCpu = ProcessCpu.Seconds(etcdPid) - etcdBefore;

            var shots = after.Sum(s => s.Shots) - before.Sum(s => s.Shots);
            var conflicts = after.Sum(s => s.Conflicts) - before.Sum(s => s.Conflicts);
            var merged = LatencyHistogram.FromBytes(
                after.Zip(before).SelectMany(p => p.First.Histogram.Since(p.Second.Histogram).ToBytes()).ToArray(), 0);

            var takeovers = new List<double>();
            for (var i = 0; i < failovers; i++)
            {
                var leaderLines = run.Lines.Count(l => LeaderLine().IsMatch(l.Line));
                var leader = LeaderLine().Match(run.Lines.Last(l => LeaderLine().IsMatch(l.Line)).Line).Groups["node"].Value;
                var pid = run.PidsOf("cowboy").Last(p => StartedAs(run, p) == leader);
                var killedAt = run.Elapsed;
                Process.GetProcessById(pid).Kill();
                var (at, _) = await run.WaitForAsync(l => LeaderLine().IsMatch(l), TimeSpan.FromSeconds(30), leaderLines + 1);
                takeovers.Add((at - killedAt).TotalSeconds);
                await Task.Delay(TimeSpan.FromSeconds(3));
            }

            await run.StopAsync();
            var perShot = 1e6 / Math.Max(1, shots);
            return new Row(binary.Label, cowboys, tick, shots / duration.TotalSeconds, (double)conflicts / Math.Max(1, shots), merged.PercentileMs(0.50),
                merged.PercentileMs(0.99), cowboyCpu * perShot, etcdCpu * perShot, string.Join(", ", takeovers.Select(t => t.ToString("0.00"))));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    private static string StartedAs(CorralRun run, int pid) =>
        run.Lines.Select(l => Started().Match(l.Line)).First(m => m.Success && m.Groups["pid"].Value == pid.ToString()).Groups["node"].Value;

    private sealed record CowboyStats(long Shots, long Conflicts, LatencyHistogram Histogram);

    private static async Task<CowboyStats[]> StatsAsync(HttpClient http, int[] ports) =>
        await Task.WhenAll(ports.Select(async port =>
        {
            var s = await http.GetFromJsonAsync<JsonElement>($"http://127.0.0.1:{port}/peer/stats");
            return new CowboyStats(s.GetProperty("shots").GetInt64(), s.GetProperty("conflicts").GetInt64(),
                LatencyHistogram.FromBytes(Convert.FromBase64String(s.GetProperty("histogram").GetString()!), s.GetProperty("sumMicros").GetInt64()));
        }));

    [GeneratedRegex(@"^corral\s*\| (?<node>cowboy-\d+) listens on http (?<port>\d+)")]
    private static partial Regex CowboyPort();

    [GeneratedRegex(@"^(?<node>cowboy-\d+)\s*\| .*I, \S+, lead now")]
    private static partial Regex LeaderLine();

    [GeneratedRegex(@"^corral\s*\| (?<node>[\w.-]+) started \(pid (?<pid>\d+)\)")]
    private static partial Regex Started();
}
