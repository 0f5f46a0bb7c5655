using Corral.Balancer.Config;
using Corral.Balancer.Health;
using Corral.Node.Control;
using Corral.Node.Http;
using Corral.Node.Nodes;
using Corral.Node.Randomness;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Yarp.ReverseProxy.Forwarder;

namespace Corral.Balancer.Proxy;

/// <summary>
/// The <c>balancer.lb</c> node: the proxy on every path but its own (<c>/lb/stats</c>, <c>/healthz</c>, <c>/readyz</c>),
/// fed by the membership feed (or a fixed worker list), active health checks and config reloads; an h2c listener beside
/// the HTTP/1.1 one when the plan gives it a port. A started node (<see cref="StartAsync"/>) hands tests its collaborators.
/// </summary>
public sealed class BalancerNode : IAsyncDisposable
{
    /// <summary>The planned port name of the h2c listener.</summary>
    public const string H2cPortName = "h2c";

    private readonly CancellationTokenSource _stopping = new();
    private readonly List<Task> _following = [];

    private BalancerNode(WebApplication app) => App = app;

    public WebApplication App { get; }
    internal BackendPool Pool => App.Services.GetRequiredService<BackendPool>();
    internal BalancerState State => App.Services.GetRequiredService<BalancerState>();

    /// <summary>The HTTP/1.1 listener's bound port.</summary>
    public int Port => App.BoundPort();

    /// <summary>The h2c listener's bound port, or null when the node was planned without one.</summary>
    public int? H2cPort => App.Services.GetRequiredService<NodePorts>().Bound(Port).TryGetValue(H2cPortName, out var port) ? port : null;

    /// <summary>
    /// The node's entry point. <c>--workers URL[,URL...]</c> fixes the worker list (manual runs, benchmarks);
    /// otherwise workers come from the supervisor's membership feed and config reloads from its config feed.
    /// </summary>
    public static async Task<int> RunAsync(NodeContext context, string[] args, CancellationToken cancellationToken)
    {
        await using var app = Build(context, BalancerConfig.FromJson(context.Config), StaticWorkers(args));
        return await NodeHost.RunAsync(app, cancellationToken);
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

    /// <summary>Builds the node; with <paramref name="workers"/> the worker list is fixed and no feed is followed.</summary>
    public static WebApplication Build(NodeContext context, BalancerConfig config, IReadOnlyList<WorkerAddress>? workers)
    {
        var builder = NodeHost.CreateBuilder(context).AddJsonContext(BalancerJson.Default);
        if (context.Ports.ContainsKey(H2cPortName))
        {
            // h2c needs a listener of its own: without TLS there is no ALPN to pick HTTP/2 on the HTTP/1.1 port.
            builder.AddListener(context, H2cPortName, listen => listen.Protocols = HttpProtocols.Http2);
        }

        // The balancer logs each ejection and answers its own errors; YARP's per-request lines would only repeat them.
        builder.Logging.AddFilter("Yarp", LogLevel.Error);
        builder.Services.AddHttpForwarder();
        builder.Services.AddSingleton<BackendPool>();
        builder.Services.AddSingleton(new BalancerState(config, new SeededRandom(context.Seed, context.NodeId)));
        builder.Services.AddSingleton<BalancerProxy>();
        builder.Services.AddSingleton<BalancerStats>();
        builder.Services.AddSingleton<BalancerFeeds>();
        builder.Services.AddHostedService<ActiveHealthChecker>();
        if (workers is null)
        {
            builder.Services.AddHostedService(sp => sp.GetRequiredService<BalancerFeeds>());
        }

        var app = builder.Build();
        // The data plane first, ahead of routing and the node kit's middleware, which only the balancer's own routes need:
        // a proxied request takes whatever Host and body type the client sent, as a reverse proxy does (the worker gets
        // its own Host), and the proxy answers its own errors; the balancer's own routes keep the node kit's rules.
        var proxy = app.Services.GetRequiredService<BalancerProxy>();
        app.Use(next => context => OwnRoute(context.Request) ? next(context) : proxy.ForwardAsync(context));
        app.UseRouting();
        app.UseNodeDefaults();
        var stats = app.Services.GetRequiredService<BalancerStats>();
        app.MapGet(StatsPath, () => TypedResults.Ok(stats.View()));
        var logger = app.Services.GetRequiredService<ILogger<BalancerNode>>();
        if (workers is not null)
        {
            app.Services.GetRequiredService<BackendPool>().Update(workers);
            app.Services.GetRequiredService<NodeReadiness>().MarkReady();
        }

        app.Lifetime.ApplicationStarted.Register(() =>
            BalancerLog.Workers(logger, context.NodeId, workers is null ? "membership feed" : $"{workers.Count} fixed worker(s)"));
        return app;
    }

    private const string StatsPath = "/lb/stats";

    /// <summary>
    /// A GET of the balancer's own endpoints (<c>/lb/stats</c> and the probes, with or without a trailing slash, in any
    /// case, as routing matches them); every other request, these paths with another method included, is proxied.
    /// </summary>
    internal static bool OwnRoute(HttpRequest request)
    {
        if (!HttpMethods.IsGet(request.Method)) return false;
        var path = request.Path.Value.AsSpan().TrimEnd('/');
        return path.Equals(StatsPath, StringComparison.OrdinalIgnoreCase)
            || path.Equals("/healthz", StringComparison.OrdinalIgnoreCase)
            || path.Equals("/readyz", StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>Builds and starts a node (tests, benchmarks); disposing it stops it.</summary>
    public static async Task<BalancerNode> StartAsync(NodeContext context, BalancerConfig config, IReadOnlyList<WorkerAddress>? workers,
        CancellationToken cancellationToken = default)
    {
        var app = Build(context, config, workers);
        await app.StartAsync(cancellationToken);
        return new BalancerNode(app);
    }

    /// <summary>Takes workers and reloaded configs from <paramref name="control"/>'s feeds (a node started with a fixed list follows none).</summary>
    public void Follow(ControlClient control) =>
        _following.Add(App.Services.GetRequiredService<BalancerFeeds>().FollowAsync(control, _stopping.Token));

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();
        await Task.WhenAll(_following);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        await App.StopAsync(timeout.Token);
        await App.DisposeAsync();
        _stopping.Dispose();
    }
}

/// <summary>Log lines of the balancer node that belong to no one collaborator.</summary>
internal static partial class BalancerLog
{
    [LoggerMessage(Level = LogLevel.Information, Message = "balancer {NodeId}: workers from {Source}")]
    public static partial void Workers(ILogger logger, string nodeId, string source);
}
