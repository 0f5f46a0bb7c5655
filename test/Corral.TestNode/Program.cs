using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text.Json;
using Corral.Node.Apps;
using Corral.Node.Nodes;
using Corral.Node.Planning;
using Corral.Supervisor.Supervision;
using Corral.Node.Topology;
using Corral.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

// A node with scriptable behaviour for supervisor tests:
//   Corral.TestNode <role> [--ready-delay MS] [--crash-after MS] [--exit-code N] [--exit-after MS]
//                          [--hang-after MS] [--ignore-sigterm] [--grandchild plain|pdeathsig|detached|escaped]
//   Corral.TestNode supervise --data DIR [--nodes N] [--redis] [-- node args]
//       (runs a Supervisor of test nodes, and with --redis a redis-server program role, in its own process)
if (args.Length > 0 && args[0] == "supervise")
{
    return await TestSupervise.RunAsync(args[1..]);
}

var role = args.Length > 0 ? args[0] : "test.worker";
var options = TestOptions.Parse(args.Skip(1).ToArray());
var context = NodeContext.FromEnvironment(role);
var builder = NodeHost.CreateBuilder(context);
PosixSignalRegistration? ignoreTerm = null;
if (options.IgnoreSigterm)
{
    // Neither the host nor the runtime may act on SIGTERM: only SIGKILL ends this node.
    builder.Services.AddSingleton<IHostLifetime, NoSignalLifetime>();
    ignoreTerm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, signal => signal.Cancel = true);
}

var app = builder.Build();
var hung = false;
app.Use(async (http, next) =>
{
    if (hung && http.Request.Path == "/healthz")
    {
        await Task.Delay(Timeout.Infinite, http.RequestAborted);
    }

    await next(http);
});
app.UseNodeDefaults();
var readiness = app.Services.GetRequiredService<NodeReadiness>();
app.MapGet("/whoami", () => TypedResults.Ok(new { context.NodeId, Pid = Environment.ProcessId, Dumpable = Corral.Node.Security.ProcessHardening.IsDumpable() }));

Console.WriteLine($"testnode {context.NodeId} pid {Environment.ProcessId} args [{string.Join(' ', args)}]");
Process? grandchild = null;
if (options.Grandchild is "detached" or "escaped")
{
    // detached: bash with job control puts its background job in a process group of its own and exits: the sleep is
    // orphaned in another group but still in this node's session, where only a session sweep finds it.
    // escaped: setsid gives the sleep a session of its own, as a daemon does: only the node's cgroup still holds it.
    var script = options.Grandchild == "detached"
        ? "set -m; sleep 600 </dev/null >/dev/null 2>&1 & echo $!"
        : "setsid sleep 300 </dev/null >/dev/null 2>&1 & echo $!";
    var info = new ProcessStartInfo("bash") { UseShellExecute = false, RedirectStandardOutput = true };
    foreach (var part in new[] { "-c", script })
    {
        info.ArgumentList.Add(part);
    }

    using var shell = Process.Start(info)!;
    var pid = (await shell.StandardOutput.ReadToEndAsync()).Trim();
    await shell.WaitForExitAsync();
    Console.WriteLine($"grandchild pid {pid}");
}
else if (options.Grandchild is { } kind)
{
    // Started from the main thread, which lives as long as this process (parent-death follows the thread).
    var info = new ProcessStartInfo(kind == "pdeathsig" ? "setpriv" : "sleep") { UseShellExecute = false };
    foreach (var part in kind == "pdeathsig" ? new[] { "--pdeathsig", "KILL", "--", "sleep", "600" } : ["600"])
    {
        info.ArgumentList.Add(part);
    }

    grandchild = Process.Start(info)!;
    Console.WriteLine($"grandchild pid {grandchild.Id}");
}

_ = Task.Run(async () =>
{
    await Task.Delay(options.ReadyDelay);
    readiness.MarkReady();
    Console.WriteLine("ready");
});
if (options.CrashAfter is { } crashAfter)
{
    _ = Task.Run(async () =>
    {
        await Task.Delay(crashAfter);
        Console.WriteLine($"crashing with exit code {options.ExitCode}");
        Environment.Exit(options.ExitCode);
    });
}

if (options.ExitAfter is { } exitAfter)
{
    _ = Task.Run(async () =>
    {
        await Task.Delay(exitAfter);
        Console.WriteLine("draining on my own");
        app.Lifetime.StopApplication();
    });
}

if (options.HangAfter is { } hangAfter)
{
    _ = Task.Run(async () =>
    {
        await Task.Delay(hangAfter);
        Console.WriteLine("hanging: /healthz stops answering");
        hung = true;
    });
}

var code = await NodeHost.RunAsync(app);
Console.WriteLine("drained");
ignoreTerm?.Dispose();
return code;

/// <summary>Behaviour switches from the command line.</summary>
internal sealed record TestOptions
{
    public int ReadyDelay { get; init; }
    public int? CrashAfter { get; init; }
    public int ExitCode { get; init; } = 3;
    public int? ExitAfter { get; init; }
    public int? HangAfter { get; init; }
    public bool IgnoreSigterm { get; init; }
    public string? Grandchild { get; init; }

    public static TestOptions Parse(string[] args)
    {
        var options = new TestOptions();
        for (var i = 0; i < args.Length; i++)
        {
            string Next() => args[++i];
            options = args[i] switch
            {
                "--ready-delay" => options with { ReadyDelay = int.Parse(Next()) },
                "--crash-after" => options with { CrashAfter = int.Parse(Next()) },
                "--exit-code" => options with { ExitCode = int.Parse(Next()) },
                "--exit-after" => options with { ExitAfter = int.Parse(Next()) },
                "--hang-after" => options with { HangAfter = int.Parse(Next()) },
                "--ignore-sigterm" => options with { IgnoreSigterm = true },
                "--grandchild" => options with { Grandchild = Next() },
                var other => throw new ArgumentException($"unknown option {other}"),
            };
        }

        return options;
    }
}

/// <summary>A host lifetime that listens to no signal.</summary>
internal sealed class NoSignalLifetime : IHostLifetime
{
    public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}

/// <summary>The hidden <c>supervise</c> entry: a Supervisor of test nodes in its own process, so a test can SIGKILL it.</summary>
internal static class TestSupervise
{
    public static async Task<int> RunAsync(string[] args)
    {
        var data = "";
        var nodes = 2;
        var redis = false;
        var nodeArgs = new List<string>();
        for (var i = 0; i < args.Length; i++)
        {
            if (args[i] == "--")
            {
                nodeArgs.AddRange(args[(i + 1)..]);
                break;
            }

            switch (args[i])
            {
                case "--data": data = args[++i]; break;
                case "--nodes": nodes = int.Parse(args[++i]); break;
                case "--redis": redis = true; break;
                default: throw new ArgumentException($"unknown option {args[i]}");
            }
        }

        var plan = new AppPlan
        {
            App = "test",
            Roles =
            [
                new RolePlan { Role = "test.worker", NodePrefix = "worker", Count = nodes, Ports = [new PlannedPort("http", 20000)], Args = nodeArgs },
                .. redis ? [RedisRole.Plan] : Array.Empty<RolePlan>(),
            ],
        };
        var loaded = new LoadedApp(new TestApp(), plan, JsonDocument.Parse("{}").RootElement);
        await using var supervisor = new RunSupervisor(new SupervisorOptions
        {
            DataDirectory = data,
            DynamicPorts = true,
            Launcher = new NodeLauncher(Environment.ProcessPath!, []),
            Sink = new ConsoleOutputSink(Console.Out, colour: false),
        }, new InMemoryTopologySource(loaded));
        using var stop = new CancellationTokenSource();
        using var signals = StopSignals.Register(stop);
        var result = await supervisor.RunAsync(stop.Token);
        return result.ExitCode;
    }
}

/// <summary>An app module with nothing in it: the supervisor only needs the plan.</summary>
internal sealed class TestApp : IAppModule
{
    public string Name => "test";
    public IReadOnlyList<string> Roles => ["test.worker"];
    public bool RecognisesOriginal(TopologyNode root) => false;
    public LoadedApp Load(TopologyDocument document, TopologyDiagnostics diagnostics) => throw new NotSupportedException();
    public Task<int> RunNodeAsync(string role, NodeContext context, string[] args, CancellationToken cancellationToken) =>
        throw new NotSupportedException();
    public CheckReport Check(string runFolder) => new(true, [], []);
    public IEnumerable<string> DescribeOutcome(JsonElement summary, string runFolder) => [];
}
