using System.CommandLine;
using System.Diagnostics;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Corral.Hosting.Nodes;
using Corral.Shootout.Config;
using Corral.Shootout.Server;
using Microsoft.AspNetCore.Builder;

namespace Corral.Bench;

/// <summary>
/// Durable shots per second at the game server: the real server (Kestrel, group commit, SQLite with
/// synchronous=FULL, events.jsonl) with <c>tick: 0</c>, and N concurrent shooters over HTTP keep-alive,
/// each waiting for its acknowledgement before its next shot.
/// </summary>
internal static class ShotsScenario
{
    public static Command Command()
    {
        var shooters = new Option<int>("--shooters") { DefaultValueFactory = _ => 64 };
        var seconds = new Option<int>("--seconds") { DefaultValueFactory = _ => 10 };
        var command = new Command("shots", "Durable shots/s and latency at the server with tick 0.") { shooters, seconds };
        command.SetAction((r, ct) => RunAsync(r.GetValue(shooters), TimeSpan.FromSeconds(r.GetValue(seconds)), ct));
        return command;
    }

    private static async Task<int> RunAsync(int shooters, TimeSpan duration, CancellationToken cancellationToken)
    {
        var folder = Directory.CreateTempSubdirectory("corral-bench-shots-").FullName;
        try
        {
            var context = new NodeContext
            {
                NodeId = "server", Role = "shootout.server", Token = "bench-token",
                ControlUrl = new Uri("http://127.0.0.1:9"), RunId = "bench", RunDirectory = Path.Combine(folder, "run"),
                DataDirectory = folder, Ports = new Dictionary<string, int> { ["http"] = 0 },
            };
            Directory.CreateDirectory(context.RunDirectory);
            var config = new ShootoutConfig
            {
                Tick = TimeSpan.Zero, Seed = 1, Rounds = 1,
                Cowboys = Enumerable.Range(1, shooters).Select(i => new CowboySpec { Name = $"c{i}", Health = 1_000_000_000, Damage = 1 }).ToArray(),
            };
            await using var app = ShootoutServer.Build(context, config);
            await app.StartAsync(cancellationToken);
            var url = new Uri($"http://127.0.0.1:{app.BoundPort()}");

            using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = shooters, PooledConnectionLifetime = Timeout.InfiniteTimeSpan })
            {
                BaseAddress = url, Timeout = TimeSpan.FromSeconds(10),
            };
            http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", context.Token);
            var names = new string[shooters];
            for (var i = 0; i < shooters; i++)
            {
                using var registered = await http.PostAsJsonAsync("/register", new { nodeId = $"cowboy-{i + 1}" }, cancellationToken);
                registered.EnsureSuccessStatusCode();
                names[i] = (await registered.Content.ReadFromJsonAsync<JsonElement>(cancellationToken)).GetProperty("cowboy").GetString()!;
            }

            // Warm up (JIT, connection pool), then measure.
            await ShootAsync(http, names, TimeSpan.FromSeconds(2), cancellationToken);
            var (latencies, errors, elapsed) = await ShootAsync(http, names, duration, cancellationToken);
            Array.Sort(latencies);
            Console.WriteLine("| shooters | seconds | acknowledged shots | shots/s | p50 ms | p99 ms | p99.9 ms | errors |");
            Console.WriteLine("|---|---|---|---|---|---|---|---|");
            Console.WriteLine($"| {shooters} | {elapsed.TotalSeconds:0.0} | {latencies.Length} | {latencies.Length / elapsed.TotalSeconds:0} | " +
                $"{Percentiles.Of(latencies, 0.50):0.00} | {Percentiles.Of(latencies, 0.99):0.00} | {Percentiles.Of(latencies, 0.999):0.00} | {errors} |");
            await app.StopAsync(CancellationToken.None);
            return errors == 0 ? 0 : 1;
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    private static async Task<(long[] Latencies, int Errors, TimeSpan Elapsed)> ShootAsync(HttpClient http, string[] names, TimeSpan duration,
        CancellationToken cancellationToken)
    {
        var errors = 0;
        var clock = Stopwatch.StartNew();
        var perShooter = await Task.WhenAll(names.Select((name, i) => Task.Run(async () =>
        {
            var mine = new List<long>(100_000);
            var body = JsonContent.Create(new { shooter = name, nodeId = $"cowboy-{i + 1}" });
            await body.LoadIntoBufferAsync(cancellationToken);
            while (clock.Elapsed < duration)
            {
                var start = Stopwatch.GetTimestamp();
                using var response = await http.PostAsync("/shoot", body, cancellationToken);
                if (response.IsSuccessStatusCode)
                {
                    mine.Add(Stopwatch.GetTimestamp() - start);
                }
                else
                {
                    Interlocked.Increment(ref errors);
                }
            }

            return mine;
        }, cancellationToken)));
        return (perShooter.SelectMany(l => l).ToArray(), errors, clock.Elapsed);
    }
}
