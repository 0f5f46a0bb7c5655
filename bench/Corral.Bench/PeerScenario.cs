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
/// included) from every cowboy's <c>/peer/stats</c> over a window, then the leader SIGKILLed a few times: seconds
/// until the next cowboy announces it leads.
/// </summary>
internal static partial class PeerScenario
{
    public static Command Command()
    {
        var cowboys = new Option<int>("--cowboys") { DefaultValueFactory = _ => 20 };
        var seconds = new Option<int>("--seconds") { DefaultValueFactory = _ => 15 };
        var tick = new Option<string>("--tick") { DefaultValueFactory = _ => "0" };
        var failovers = new Option<int>("--failovers") { DefaultValueFactory = _ => 3 };
        var binary = CorralBinary.Option();
        var command = new Command("peer", "Peer mode through etcd: shots/s, conflict-retry rate, p99 shot latency, leader fail-over.")
        {
            cowboys, seconds, tick, failovers, binary,
        };
        command.SetAction(async (r, _) =>
        {
            Console.WriteLine("| binary | cowboys | tick | committed shots/s | conflict retries per committed shot | shot p50 ms | shot p99 ms | leader fail-over s (each) |");
            Console.WriteLine("|---|---:|---|---:|---:|---:|---:|---|");
            foreach (var b in CorralBinary.Parse(r.GetValue(binary)!))
            {
                await RunAsync(b, r.GetValue(cowboys), TimeSpan.FromSeconds(r.GetValue(seconds)), r.GetValue(tick)!, r.GetValue(failovers));
            }

            return 0;
        });
        return command;
    }

    private static async Task RunAsync(CorralBinary binary, int cowboys, TimeSpan duration, string tick, int failovers)
    {
        var folder = Directory.CreateTempSubdirectory("corral-bench-peer-").FullName;
        var topology = new StringBuilder($"app: shootout\nmode: peer\ntick: {tick}\nseed: 1\nrounds: 1\nrestarts: {{cowboy: 20}}\ncowboys:\n");
        for (var i = 1; i <= cowboys; i++) topology.Append($"  - {{name: c{i}, health: 1000000, damage: 1}}\n");
        var file = Path.Combine(folder, "peer.yaml");
        await File.WriteAllTextAsync(file, topology.ToString());
        try
        {
            await using var run = CorralRun.Start(binary, folder, "up", file, "--ports", "dynamic", "--data", folder);
            await run.WaitForAsync(l => l.Contains("Round 1 started"), TimeSpan.FromMinutes(3));
            var ports = run.Lines.Select(l => CowboyPort().Match(l.Line)).Where(m => m.Success)
                .GroupBy(m => m.Groups["node"].Value).Select(g => int.Parse(g.Last().Groups["port"].Value)).ToArray();
            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
            await Task.Delay(TimeSpan.FromSeconds(3)); // warm-up
            var before = await StatsAsync(http, ports);
            await Task.Delay(duration);
            var after = await StatsAsync(http, ports);

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
            Console.WriteLine($"| {binary.Label} | {cowboys} | {tick} | {shots / duration.TotalSeconds:0} | {(double)conflicts / Math.Max(1, shots):0.00} | " +
                              $"{merged.PercentileMs(0.50):0.0} | {merged.PercentileMs(0.99):0.0} | {string.Join(", ", takeovers.Select(t => t.ToString("0.00")))} |");
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
