using Corral.Balancer.Config;
using Corral.Node.Control;
using Corral.Node.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Corral.Balancer.Worker;

/// <summary>
/// A worker process: a service listener (hello and stats, the balancers' traffic) and an admin listener (probes,
/// faults, stats). They are two hosts, so an outage can close the service listener, and reopen it on the same port,
/// while the admin listener keeps answering the supervisor and the switch that ends the outage.
/// </summary>
public sealed partial class WorkerNode : IAsyncDisposable
{
    private readonly NodeContext _context;
    private readonly SemaphoreSlim _serviceLock = new(1, 1);
    private readonly CancellationTokenSource _stopping = new();
    private readonly ILogger _logger;
    private WebApplication? _service;
    private Task _flushLoop = Task.CompletedTask;
    private Task _following = Task.CompletedTask;
    private NodeReadiness _readinessShared = null!;
    private int _servicePort;
    private bool _stopped;

    private WorkerNode(NodeContext context, WorkerApp app, WebApplication admin)
    {
        _context = context;
        App = app;
        Admin = admin;
        _logger = admin.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Corral.Balancer.Worker");
    }

    internal WorkerApp App { get; }
    public WebApplication Admin { get; }
    public int ServicePort => _servicePort;
    public int AdminPort => Admin.BoundPort();

    /// <summary>The node's entry point under <c>corral node balancer.worker</c>: runs until SIGTERM or cancellation, then drains.</summary>
    public static async Task<int> RunAsync(NodeContext context, CancellationToken cancellationToken)
    {
        var config = BalancerConfig.FromJson(context.Config);
        await using var node = await StartAsync(context, config, cancellationToken);
        var ports = new Dictionary<string, int> { ["http"] = node.ServicePort, ["admin"] = node.AdminPort };
        await NodeHost.ReportEndpointsAsync(node.Admin.Services.GetRequiredService<ControlClient>(), context, ports, node._logger, cancellationToken);
        LogListening(node._logger, context.NodeId, node.ServicePort, node.AdminPort);
        node.Follow(node.Admin.Services.GetRequiredService<ControlClient>(), config);
        await using (cancellationToken.Register(() => node.Admin.Lifetime.StopApplication()))
        {
            await node.Admin.WaitForShutdownAsync(CancellationToken.None);
        }

        // Draining: /readyz already says so, and the supervisor takes the worker out of the membership feed; keep
        // serving a moment so every balancer hears of it before the service port closes (in-flight requests finish).
        node._readinessShared.MarkDraining();
        await Task.Delay(DrainGrace, context.Time, CancellationToken.None);
        await node.StopAsync();
        return 0;
    }

    /// <summary>How long a draining worker keeps serving after it announced it is leaving.</summary>
    public static readonly TimeSpan DrainGrace = TimeSpan.FromSeconds(1);

    /// <summary>Follows the supervisor's config feed (see <see cref="FollowConfigAsync"/>) until the worker stops.</summary>
    public void Follow(ControlClient control, BalancerConfig initial) => _following = FollowConfigAsync(control, initial);

    /// <summary>
    /// A reloaded topology may change the workers' delay and failure rate. Only what changed from the previous version
    /// is applied, so the feed's first (current) version, or an edit of another key, does not undo a <c>PUT /faults</c>.
    /// </summary>
    private async Task FollowConfigAsync(ControlClient control, BalancerConfig initial)
    {
        var last = initial;
        try
        {
            await foreach (var document in control.WatchConfigAsync(_stopping.Token))
            {
                BalancerConfig next;
                try
                {
                    next = BalancerConfig.FromJson(document.Config);
                }
                catch (System.Text.Json.JsonException e)
                {
                    LogFlushFailed(_logger, "unreadable config: " + e.Message);
                    continue;
                }

                var faults = App.Faults;
                if (next.AvgDelay != last.AvgDelay) faults = faults with { AvgDelay = next.AvgDelay };
                if (next.FailurePercent != last.FailurePercent) faults = faults with { FailurePercent = next.FailurePercent };
                if (faults != App.Faults) await App.SetFaultsAsync(faults);

                last = next;
            }
        }
        catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
        {
        }
    }

    public static async Task<WorkerNode> StartAsync(NodeContext context, BalancerConfig config, CancellationToken cancellationToken = default)
    {
        var statsPath = config.StatsPath ?? Path.Combine(context.DataDirectory, "balancer.db");
        var store = new WorkerStatsStore(statsPath, context.RunId);
        var restored = await store.LoadAsync(context.NodeId, cancellationToken);
        var app = new WorkerApp(context, config, store, restored);

        var adminBuilder = NodeHost.CreateBuilder(context, "admin").AddJsonContext(BalancerJson.Default);
        var readiness = new NodeReadiness();
        adminBuilder.Services.AddSingleton(readiness);
        var admin = adminBuilder.Build();
        admin.UseNodeDefaults();
        app.MapAdmin(admin);
        var node = new WorkerNode(context, app, admin);
        node._readinessShared = readiness;
        await admin.StartAsync(cancellationToken);
        await node.OpenServiceAsync(context.Port("http"), cancellationToken);
        app.FaultsChanged += node.OnFaultsChangedAsync;
        node._flushLoop = node.FlushLoopAsync(config.StatsFlushInterval);
        readiness.MarkReady();
        return node;
    }

    private async Task OpenServiceAsync(int port, CancellationToken cancellationToken)
    {
        var builder = NodeHost.CreateBuilder(_context with { Ports = new Dictionary<string, int> { ["http"] = port } }, "http").AddJsonContext(BalancerJson.Default);
        // Its own readiness: closing this listener for an outage must not mark the whole node as draining.
        var serviceReadiness = new NodeReadiness();
        builder.Services.AddSingleton(serviceReadiness);
        // The worker decides when its service listener closes (outage, drain), not the host's SIGTERM handler.
        builder.Services.AddSingleton<IHostLifetime, ManualLifetime>();
        var service = builder.Build();
        service.Use(async (http, next) =>
        {
            if (App.Faults.Outage == OutageMode.Drop)
            {
                // Drop: the connection ends without an answer, as a crashed or partitioned server's would.
                http.Abort();
                return;
            }

            await next(http);
        });
        service.UseWebSockets();
        service.UseNodeDefaults();
        App.MapService(service);
        await service.StartAsync(cancellationToken);
        serviceReadiness.MarkReady();
        _servicePort = service.BoundPort();
        _service = service;
    }

    private async Task CloseServiceAsync()
    {
        if (_service is null) return;
        var service = _service;
        _service = null;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        await service.StopAsync(timeout.Token);
        await service.DisposeAsync();
    }

    private async Task OnFaultsChangedAsync(FaultSettings faults)
    {
        await _serviceLock.WaitAsync();
        try
        {
            if (_stopped) return;
            if (faults.Outage == OutageMode.Refuse && _service is not null)
            {
                await CloseServiceAsync();
                LogOutage(_logger, _context.NodeId, "refusing connections");
            }
            else if (faults.Outage != OutageMode.Refuse && _service is null)
            {
                await OpenServiceAsync(_servicePort, CancellationToken.None);
                LogOutage(_logger, _context.NodeId, "serving again");
            }
        }
        finally
        {
            _serviceLock.Release();
        }
    }

    private async Task FlushLoopAsync(TimeSpan interval)
    {
        using var timer = new PeriodicTimer(interval, _context.Time);
        try
        {
            while (await timer.WaitForNextTickAsync(_stopping.Token))
            {
                try
                {
                    await App.FlushAsync(_stopping.Token);
                }
                catch (Exception e) when (e is Microsoft.Data.Sqlite.SqliteException or IOException)
                {
                    LogFlushFailed(_logger, e.Message);
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>Drains: stops taking requests, lets in-flight ones finish, then writes the final statistics.</summary>
    public async Task StopAsync()
    {
        await _serviceLock.WaitAsync();
        try
        {
            if (_stopped) return;
            _stopped = true;
            _readinessShared.MarkDraining();
            await CloseServiceAsync();
        }
        finally
        {
            _serviceLock.Release();
        }

        await _stopping.CancelAsync();
        await _flushLoop;
        await _following;
        await App.FlushAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        await Admin.StopAsync(timeout.Token);
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        await Admin.DisposeAsync();
        _stopping.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "worker {NodeId} serving on {ServicePort}, admin on {AdminPort}")]
    private static partial void LogListening(ILogger logger, string nodeId, int servicePort, int adminPort);

    [LoggerMessage(Level = LogLevel.Warning, Message = "worker {NodeId} outage: {State}")]
    private static partial void LogOutage(ILogger logger, string nodeId, string state);

    [LoggerMessage(Level = LogLevel.Warning, Message = "could not write statistics: {Error}")]
    private static partial void LogFlushFailed(ILogger logger, string error);

    /// <summary>A host lifetime that ignores process signals: its owner stops the host.</summary>
    private sealed class ManualLifetime : IHostLifetime
    {
        public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;
        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
