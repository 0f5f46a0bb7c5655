using System.Diagnostics;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Corral.Node.Nodes;
using Corral.Node.Security;
using Corral.Node.Storage;
using Corral.Shootout;
using Corral.Shootout.Config;
using Corral.Shootout.Server;
using Corral.Shootout.Store;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;

// Harness for the shootout server's durable-shot throughput (tick 0, 64 shooters that never die).
//   server <data dir> <port> [full|normal]   run the game server alone (load it with wrk and shoot.lua)
//   register <port>                          bind the 64 identities to nodes n0..n63 (cN+1 ↔ nN)
//   engine <data dir> [full|normal]          the writer loop and store without HTTP, 64 concurrent callers, 5 s
const int shooters = 64;
var mode = args.Length > 0 ? args[0] : "";
var config = new ShootoutConfig
{
    Tick = TimeSpan.Zero,
    Seed = 1,
    Cowboys = Enumerable.Range(1, shooters).Select(i => new CowboySpec { Name = $"c{i}", Health = 1_000_000_000, Damage = 1 }).ToArray(),
};
// The old words (full | normal) still work, as they do in a topology.
Durability DurabilityArg(int i) => args.Length > i && args[i] is "sync" or "normal" ? Durability.Sync : Durability.Fsync;

switch (mode)
{
    case "server":
    {
        // The server checks each shooter's credential as in a run: one per cowboy node, written for the load generator.
        var runId = "bench-" + Guid.NewGuid().ToString("N")[..8];
        using var issuer = CredentialIssuer.Create(runId);
        File.WriteAllLines(Path.Combine(args[1], "credentials.txt"),
            Enumerable.Range(0, shooters).Select(i => issuer.IssueNode($"n{i}", 1, ShootoutPlan.CowboyRole, reportsOutcome: false)));
        var context = new NodeContext
        {
            NodeId = "server", Role = ShootoutPlan.ServerRole, Token = issuer.IssueNode("server", 1, ShootoutPlan.ServerRole, reportsOutcome: true),
            Credentials = issuer.Verifier, ControlUrl = new Uri("http://127.0.0.1:1"),
            RunId = runId, RunDirectory = Path.Combine(args[1], "run"), DataDirectory = args[1],
            Ports = new Dictionary<string, int> { ["http"] = int.Parse(args[2]) }, Config = config.ToJson(),
        };
        var app = ShootoutServer.Build(context, config, DurabilityArg(3));
        var engine = app.Services.GetRequiredService<GameEngine>();
        app.Lifetime.ApplicationStopping.Register(() =>
            Console.WriteLine($"requests {engine.Requests}, batches {engine.Batches}, mean batch {engine.Requests / (double)Math.Max(1, engine.Batches):0.0}, gen0 GCs {GC.CollectionCount(0)}, allocated {GC.GetTotalAllocatedBytes() / 1048576} MiB"));
        await app.RunAsync();
        return 0;
    }

    case "register":
    {
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{args[1]}") };
        var credentials = File.ReadAllLines(Path.Combine(args[2], "credentials.txt"));
        for (var i = 0; i < shooters; i++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/register")
            {
                Content = new StringContent($"{{\"nodeId\":\"n{i}\"}}", Encoding.UTF8, "application/json"),
            };
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", credentials[i]);
            using var response = await http.SendAsync(request);
            var cowboy = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("cowboy").GetString();
            if (cowboy != $"c{i + 1}") throw new InvalidOperationException($"n{i} got {cowboy}: start from a fresh data dir");
        }

        return 0;
    }

    case "engine":
    {
        await using var engine = GameEngine.Open(config, 1, Path.Combine(args[1], "engine.db"), Path.Combine(args[1], "engine.jsonl"),
            "engine-" + Guid.NewGuid().ToString("N")[..8], TimeProvider.System, NullLogger.Instance, DurabilityArg(2));
        for (var i = 0; i < shooters; i++) await engine.RegisterAsync($"n{i}");
        var clock = Stopwatch.StartNew();
        var cpu = Process.GetCurrentProcess().TotalProcessorTime;
        var count = 0;
        await Task.WhenAll(Enumerable.Range(0, shooters).Select(async i =>
        {
            var (name, node) = ($"c{i + 1}", $"n{i}");
            while (clock.Elapsed.TotalSeconds < 5)
            {
                await engine.ShootAsync(name, node);
                Interlocked.Increment(ref count);
            }
        }));
        cpu = Process.GetCurrentProcess().TotalProcessorTime - cpu;
        Console.WriteLine($"engine: {count / clock.Elapsed.TotalSeconds:0} shots/s, mean batch {engine.Requests / (double)engine.Batches:0.0}, cpu {cpu.TotalMicroseconds / count:0.0} µs/shot");
        return 0;
    }

    default:
        Console.Error.WriteLine("usage: server <dir> <port> [full|normal] | register <port> | engine <dir> [full|normal]");
        return 2;
}
