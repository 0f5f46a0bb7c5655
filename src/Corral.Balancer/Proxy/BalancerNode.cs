using System.Net;
using Corral.Balancer.Config;
using Corral.Balancer.Health;
using Corral.Node.Control;
using Corral.Node.Nodes;
using Corral.Node.Randomness;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Yarp.ReverseProxy.Forwarder;

namespace Corral.Balancer.Proxy;

/// <summary>
/// A balancer process: one listener, the proxy on every path but its own (<c>/lb/stats</c>, <c>/healthz</c>,
/// <c>/readyz</c>), fed by the membership feed (or a fixed worker list), active health checks and config reloads.
/// </summary>
public sealed partial class BalancerNode : IAsyncDisposable
{
    private readonly CancellationTokenSource _stopping = new();
    private readonly List<Task> _loops = [];
    private readonly ILogger _logger;
    private readonly ActiveHealthChecker _health;
    private readonly BalancerProxy _proxy;
    private readonly NodeContext _context;

    private BalancerNode(NodeContext context, WebApplication app, BackendPool pool, BalancerState state)
    {
        _context = context;
        App = app;
        Pool = pool;
        State = state;
        _logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Corral.Balancer.Lb");
        _proxy = new BalancerProxy(pool, state, context.Time, _logger, app.Services.GetRequiredService<IHttpForwarder>());
        _health = new ActiveHealthChecker(pool, state, context.Time, _logger);
    }

    public WebApplication App { get; }
    internal BackendPool Pool { get; }
    internal BalancerState State { get; }
    internal ActiveHealthChecker Health => _health;
    /// <summary>The HTTP/1.1 listener's bound port.</summary>
    public int Port => App.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses
        .Select(a => new Uri(a).Port).First(p => p != H2cPort);

    /// <summary>The planned port name of the h2c listener.</summary>
    public const string H2cPortName = "h2c";

    /// <summary>The h2c listener's bound port, or null when the node was planned without one.</summary>
    public int? H2cPort => _h2c?.IPEndPoint?.Port;

    private ListenOptions? _h2c;

    /// <summary>
    /// The node's entry point. <c>--workers URL[,URL...]</c> fixes the worker list (manual runs, benchmarks);
    /// otherwise workers come from the supervisor's membership feed and config reloads from its config feed.
    /// </summary>
    public static async Task<int> RunAsync(NodeContext context, string[] args, CancellationToken cancellationToken)
    {
        var config = BalancerConfig.FromJson(context.Config);
        var workers = StaticWorkers(args);
        await using var node = await StartAsync(context, config, workers, cancellationToken);
        var control = node.App.Services.GetRequiredService<ControlClient>();
        if (workers is null)
        {
            node.Follow(control);
        }

        var ports = new Dictionary<string, int> { ["http"] = node.Port };
        if (node.H2cPort is { } h2c) ports[H2cPortName] = h2c;
        await NodeHost.ReportEndpointsAsync(control, context, ports, node._logger, cancellationToken);
        LogListening(node._logger, context.NodeId, node.Port, workers is null ? "membership feed" : $"{workers.Count} fixed worker(s)");
        await using (cancellationToken.Register(() => node.App.Lifetime.StopApplication()))
        {
            await node.App.WaitForShutdownAsync(CancellationToken.None);
        }

        return 0;
    }

    /// <summary><c>--workers http://127.0.0.1:6000,http://127.0.0.1:6001</c> → worker-1, worker-2.</summary>
    public static IReadOnlyList<WorkerAddress>? StaticWorkers(string[] args)
    {
        var at = Array.IndexOf(args, "--workers");
        if (at < 0 || at + 1 >= args.Length) return null;
        return args[at + 1].Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select((url, i) => new WorkerAddress($"worker-{i + 1}", new Uri(url)))
            .ToArray();
    }

    /// <summary>Starts the listener and the health loop; with <paramref name="workers"/> the worker list is fixed.</summary>
    public static async Task<BalancerNode> StartAsync(NodeContext context, BalancerConfig config, IReadOnlyList<WorkerAddress>? workers,
        CancellationToken cancellationToken = default)
    {
        var builder = NodeHost.CreateBuilder(context).AddJsonContext(BalancerJson.Default);
        builder.Services.AddHttpForwarder();
        ListenOptions? h2c = null;
        if (context.Ports.TryGetValue(H2cPortName, out var h2cPort))
        {
            builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Parse(context.BindAddress), h2cPort, listen =>
            {
                listen.Protocols = HttpProtocols.Http2;
                h2c = listen;
            }));
        }

        // The balancer logs each ejection and answers its own errors; YARP's per-request lines would only repeat them.
        builder.Logging.AddFilter("Yarp", LogLevel.Error);
        var app = builder.Build();
        var pool = new BackendPool();
        var state = new BalancerState(config, new SeededRandom(context.Seed, context.NodeId));
        var node = new BalancerNode(context, app, pool, state);
        app.UseNodeDefaults();
        app.MapGet("/lb/stats", () => TypedResults.Ok(node.StatsView()));
        app.Map("/{**path}", node._proxy.ForwardAsync);
        if (workers is not null)
        {
            pool.Update(workers);
            app.Services.GetRequiredService<NodeReadiness>().MarkReady();
        }

        await app.StartAsync(cancellationToken);
        node._h2c = h2c;
        node._loops.Add(node._health.RunAsync(node._stopping.Token));
        return node;
    }

    /// <summary>Takes workers from the supervisor's membership feed and reloaded configs from its config feed.</summary>
    public void Follow(ControlClient control)
    {
        _loops.Add(FollowMembershipAsync(control));
        _loops.Add(FollowConfigAsync(control));
    }

    internal BalancerStatsView StatsView()
    {
        var now = _context.Time.GetUtcNow();
        var workers = Pool.All.Select(b => b.Snapshot(now)).ToArray();
        return new BalancerStatsView(_context.NodeId, State.Config.Policy.ToString(), workers.Sum(w => w.Requests),
            workers.Sum(w => w.Failures), workers.Sum(w => w.Retries), workers)
        {
            InFlight = _proxy.Active,
            RetriesInFlight = _proxy.Budget.InFlight,
            RetriesRefused = _proxy.Budget.Refused,
            Panic = _proxy.Panicking,
            PanicRequests = _proxy.PanicRequests,
        };
    }

    private async Task FollowMembershipAsync(ControlClient control)
    {
        var readiness = App.Services.GetRequiredService<NodeReadiness>();
        try
        {
            await foreach (var change in control.WatchMembershipAsync(_stopping.Token))
            {
                var members = change.Snapshot.OfRole(BalancerPlan.WorkerRole)
                    .Where(m => m.Urls.ContainsKey("http"))
                    .Select(m => new WorkerAddress(m.NodeId, new Uri(m.Url("http"))))
                    .ToArray();
                Pool.Update(members);
                readiness.MarkReady();
                LogMembership(_logger, change.Change.ToString(), change.Member?.NodeId ?? "-", members.Length);
            }
        }
        catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
        {
        }
    }

    private async Task FollowConfigAsync(ControlClient control)
    {
        try
        {
            await foreach (var document in control.WatchConfigAsync(_stopping.Token))
            {
                BalancerConfig config;
                try
                {
                    config = BalancerConfig.FromJson(document.Config);
                }
                catch (System.Text.Json.JsonException e)
                {
                    // One version it cannot read must not end the feed: the last good config stays, the next good one applies.
                    LogBadConfig(_logger, document.Version, e.Message);
                    continue;
                }

                // Every setting applies from the next request, timeouts included (the connect timeout from the next connection).
                State.Update(config);
                LogConfig(_logger, document.Version, config.Policy.ToString());
            }
        }
        catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
        {
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();
        await Task.WhenAll(_loops);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        await App.StopAsync(timeout.Token);
        await App.DisposeAsync();
        _proxy.Dispose();
        _health.Dispose();
        _stopping.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "balancer {NodeId} listening on {Port}, workers from {Source}")]
    private static partial void LogListening(ILogger logger, string nodeId, int port, string source);

    [LoggerMessage(Level = LogLevel.Information, Message = "membership {Change} {NodeId}: {Count} worker(s)")]
    private static partial void LogMembership(ILogger logger, string change, string nodeId, int count);

    [LoggerMessage(Level = LogLevel.Information, Message = "config version {Version} applied (policy {Policy})")]
    private static partial void LogConfig(ILogger logger, long version, string policy);

    [LoggerMessage(Level = LogLevel.Warning, Message = "config version {Version} skipped, this balancer cannot read it (the last good one stays): {Error}")]
    private static partial void LogBadConfig(ILogger logger, long version, string error);
}

/// <summary>What <c>GET /lb/stats</c> answers: this balancer's totals and its view of every worker.</summary>
internal sealed record BalancerStatsView(string Node, string Policy, long Requests, long Failures, long Retries,
    IReadOnlyList<BackendStats> Workers)
{
    /// <summary>Client requests being forwarded now.</summary>
    public int InFlight { get; init; }

    /// <summary>Retries holding the retry budget now.</summary>
    public int RetriesInFlight { get; init; }

    /// <summary>Retries the budget refused since the balancer started (each one cost a client an error).</summary>
    public long RetriesRefused { get; init; }

    /// <summary>Whether the last request was routed in panic: too few workers healthy, so all of them were used.</summary>
    public bool Panic { get; init; }

    /// <summary>Requests routed in panic since the balancer started.</summary>
    public long PanicRequests { get; init; }
}
