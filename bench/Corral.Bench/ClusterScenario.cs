using System.CommandLine;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Corral.Node.Metrics;

namespace Corral.Bench;

/// <summary>
/// A big real run: N cowboy processes at a one-second tick under `corral up`. Reports the server's own
/// shot latency (from its <c>/stats</c>, request in to durable answer out) and each cowboy process's memory (PSS).
/// </summary>
internal static partial class ClusterScenario
{
    public static Command Command()
    {
        var cowboys = new Option<int>("--cowboys") { DefaultValueFactory = _ => 100 };
        var seconds = new Option<int>("--seconds") { DefaultValueFactory = _ => 30 };
        var tick = new Option<string>("--tick") { DefaultValueFactory = _ => "1s" };
        var binary = CorralBinary.Option();
        var command = new Command("cluster", "Server p50/p99 and memory per cowboy process for a large run.") { cowboys, seconds, tick, binary };
        command.SetAction(async (r, _) =>
        {
            Console.WriteLine("| binary | cowboys | tick | all registered after s | shots/s | server p50 ms | server p99 ms | PSS per cowboy MiB (mean / max) |");
            Console.WriteLine("|---|---:|---|---:|---:|---:|---:|---:|");
            foreach (var b in CorralBinary.Parse(r.GetValue(binary)!))
            {
                await RunAsync(b, r.GetValue(cowboys), TimeSpan.FromSeconds(r.GetValue(seconds)), r.GetValue(tick)!);
            }

            return 0;
        });
        return command;
    }

    private static async Task RunAsync(CorralBinary binary, int cowboys, TimeSpan duration, string tick)
    {
        var folder = Directory.CreateTempSubdirectory("corral-bench-cluster-").FullName;
        var topology = new StringBuilder($"app: shootout\ntick: {tick}\nseed: 1\nrounds: 1\ncowboys:\n");
        for (var i = 1; i <= cowboys; i++) topology.Append($"  - {{name: c{i}, health: 100000, damage: 1}}\n");
        var file = Path.Combine(folder, "cluster.yaml");
        await File.WriteAllTextAsync(file, topology.ToString());
        try
        {
            await using var run = CorralRun.Start(binary, folder, "up", file, "--ports", "dynamic", "--data", folder);
            var ready = await run.WaitForAsync(l => l.Contains("Round 1 of 1 starts"), TimeSpan.FromMinutes(3));
            // The last port the server reported: a restarted server may listen elsewhere.
            var port = ServerPort().Match(run.Lines.Select(l => l.Line).Last(l => ServerPort().IsMatch(l))).Groups["port"].Value;
            using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(10) };
            await Task.Delay(TimeSpan.FromSeconds(5)); // the first shots run JIT-cold code on the server
            JsonElement before, stats;
            try
            {
                before = await http.GetFromJsonAsync<JsonElement>("/stats");
                await Task.Delay(duration);
                stats = await http.GetFromJsonAsync<JsonElement>("/stats");
            }
            catch (HttpRequestException e)
            {
                // A saturated machine can fail the server's liveness probes, and the supervisor then kills it: a
                // figure of its own, not a crash of the benchmark.
                var kills = run.Lines.Count(l => l.Line.Contains("liveness probes in a row; killing it"));
                Console.WriteLine($"| {binary.Label} | {cowboys} | {tick} | {ready.At.TotalSeconds:0.0} | failed: the server stopped answering " +
                                  $"({e.Message}); {kills} nodes killed for failed liveness probes | | | |");
                await run.StopAsync();
                return;
            }

            var pss = run.PidsOf("cowboy").Select(CorralRun.PssKiB).Where(k => k > 0).ToArray();
            await run.StopAsync();

            var window = Histogram(stats).Since(Histogram(before));
            var shots = window.Count;
            Console.WriteLine($"| {binary.Label} | {cowboys} | {tick} | {ready.At.TotalSeconds:0.0} | {shots / duration.TotalSeconds:0} | " +
                $"{window.PercentileMs(0.50):0.00} | {window.PercentileMs(0.99):0.00} | " +
                $"{pss.Average() / 1024:0.0} / {pss.Max() / 1024.0:0.0} |");
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    private static LatencyHistogram Histogram(JsonElement stats) =>
        LatencyHistogram.FromBytes(Convert.FromBase64String(stats.GetProperty("histogram").GetString()!), stats.GetProperty("sumMicros").GetInt64());

    [GeneratedRegex(@"^corral\s*\| server listens on http (?<port>\d+)")]
    private static partial Regex ServerPort();
}
