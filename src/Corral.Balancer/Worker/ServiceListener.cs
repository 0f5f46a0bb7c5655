using Corral.Node.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Corral.Balancer.Worker;

/// <summary>
/// The worker's service listener (hello, stats, the balancers' traffic): a host of its own, so an outage can close it,
/// and reopen it on the same port, while the node's admin listener keeps answering the supervisor and the switch that
/// ends the outage. It opens when the node starts; on a drain it keeps serving <see cref="WorkerNode.DrainGrace"/> after
/// the node said it is leaving, so every balancer hears of it first, then closes (in-flight requests finish).
/// </summary>
internal sealed partial class ServiceListener(NodeContext context, WorkerApp app, NodeReadiness readiness, ILogger<ServiceListener> logger)
    : IHostedService, IAsyncDisposable
{
    private readonly SemaphoreSlim _lock = new(1, 1);
    private WebApplication? _service;
    private int _port;
    private bool _stopped;

    /// <summary>The bound port; it stays the same across an outage.</summary>
    public int Port => Volatile.Read(ref _port);

    /// <summary>The open listener's host (tests read its routes), or null during an outage.</summary>
    internal WebApplication? App => _service;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await OpenAsync(context.Port("http"), cancellationToken);
        app.FaultsChanged += OnFaultsChangedAsync;
        readiness.MarkReady();
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        // Draining: /readyz already says so, and the supervisor takes the worker out of the membership feed; keep
        // serving a moment so every balancer hears of it before the service port closes.
        readiness.MarkDraining();
        try
        {
            await Task.Delay(WorkerNode.DrainGrace, context.Time, cancellationToken);
        }
        catch (OperationCanceledException)
        {
            // The host's shutdown timeout passed: close now rather than never.
        }

        await _lock.WaitAsync(CancellationToken.None);
        try
        {
            _stopped = true;
            await CloseAsync();
        }
        finally
        {
            _lock.Release();
        }
    }

    private async Task OpenAsync(int port, CancellationToken cancellationToken)
    {
        var builder = NodeHost.CreateBuilder(context with { Ports = new Dictionary<string, int> { ["http"] = port } }).AddJsonContext(BalancerJson.Default);
        // The balancers' traffic carries bodies of any size, as the balancer takes them; the worker reads none of them and
        // Kestrel discards what is left (at its minimum data rate). With the node's 1 MiB limit, a larger body made the worker
        // close the connection mid-upload, and the balancer answered 502 and counted it against the worker.
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Limits.MaxRequestBodySize = null);
        // The worker decides when its service listener closes (outage, drain), not the host's SIGTERM handler.
        builder.Services.AddSingleton<IHostLifetime, ManualLifetime>();
        var service = builder.Build();
        service.Use(async (http, next) =>
        {
            if (app.Faults.Outage == OutageMode.Drop)
            {
                // Drop: the connection ends without an answer, as a crashed or partitioned server's would.
                http.Abort();
                return;
            }

            await next(http);
        });
        service.UseWebSockets();
        service.UseNodeDefaults();
        app.MapService(service);
        await service.StartAsync(cancellationToken);
        // Its own readiness: closing this listener for an outage must not mark the whole node as draining.
        service.Services.GetRequiredService<NodeReadiness>().MarkReady();
        Volatile.Write(ref _port, service.BoundPort());
        _service = service;
    }

    private async Task CloseAsync()
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
        await _lock.WaitAsync();
        try
        {
            if (_stopped) return;
            if (faults.Outage == OutageMode.Refuse && _service is not null)
            {
                await CloseAsync();
                LogOutage(logger, context.NodeId, "refusing connections");
            }
            else if (faults.Outage != OutageMode.Refuse && _service is null)
            {
                await OpenAsync(Port, CancellationToken.None);
                LogOutage(logger, context.NodeId, "serving again");
            }
        }
        finally
        {
            _lock.Release();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await CloseAsync();
        _lock.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "worker {NodeId} outage: {State}")]
    private static partial void LogOutage(ILogger logger, string nodeId, string state);

    /// <summary>A host lifetime that ignores process signals: its owner stops the host.</summary>
    private sealed class ManualLifetime : IHostLifetime
    {
        public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;
        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
