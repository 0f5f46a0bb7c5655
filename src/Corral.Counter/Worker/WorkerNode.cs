using System.Globalization;
using Corral.Counter.Config;
using Corral.Counter.Store;
using Corral.Node.Nodes;
using Corral.Node.Storage;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Corral.Counter.Worker;

/// <summary>
/// The <c>counter.worker</c> node: the <see cref="WorkerApi"/> over the partitions it owns (<see cref="PartitionSet"/>),
/// handed over as the membership changes (<see cref="PartitionHandover"/>). It drains on SIGTERM or <c>/kill</c>: it
/// stops taking requests, finishes the ones it holds, then commits and closes its partitions as the host is disposed.
/// A started node (<see cref="StartAsync"/>) hands tests its collaborators.
/// </summary>
public sealed partial class WorkerNode : IAsyncDisposable
{
    private WorkerNode(WebApplication app) => App = app;

    public WebApplication App { get; }
    public PartitionSet Partitions => App.Services.GetRequiredService<PartitionSet>();
    public int Port => App.BoundPort();

    /// <summary>The node's entry point under <c>corral node counter.worker</c>; 1 when the store on disk does not fit the config.</summary>
    public static async Task<int> RunAsync(NodeContext context, CancellationToken cancellationToken)
    {
        var config = CounterConfig.FromJson(context.Config);
        await using var app = Build(context, config);
        var logger = app.Services.GetRequiredService<ILogger<WorkerNode>>();
        try
        {
            OpenStore(app);
        }
        catch (StoreMismatchException e)
        {
            LogStoreRefused(logger, e.Message);
            return 1;
        }

        app.Lifetime.ApplicationStarted.Register(() => LogListening(logger, context.NodeId, app.BoundPort(), config.Partitions,
            config.Durability.ToString().ToLowerInvariant()));
        return await NodeHost.RunAsync(app, cancellationToken);
    }

    /// <summary>Builds the node; its store is opened by <see cref="OpenStore"/> before it starts.</summary>
    public static WebApplication Build(NodeContext context, CounterConfig config)
    {
        var builder = NodeHost.CreateBuilder(context).AddJsonContext(CounterJson.Default);
        if (config.WorkerLogs is { } logs)
        {
            // The original named each log after the worker's port; with ports chosen at start (--ports dynamic) the node id names it.
            var name = context.Port() is > 0 and var port ? port.ToString(CultureInfo.InvariantCulture) : context.NodeId;
            builder.Logging.AddProvider(new FileLogProvider(Path.Combine(logs, name)));
        }

        builder.Services.AddSingleton(config);
        builder.Services.AddSingleton(new StoreLayout(config.StoreFolder(context.DataDirectory), config.Partitions));
        builder.Services.AddSingleton(sp => new PartitionSet(sp.GetRequiredService<StoreLayout>(), context.NodeId, config, context.Time,
            sp.GetRequiredService<ILogger<PartitionSet>>()));
        builder.Services.AddSingleton<WorkerApi>();
        builder.Services.AddHostedService<PartitionHandover>();
        var app = builder.Build();
        app.UseNodeDefaults();
        app.Services.GetRequiredService<WorkerApi>().Map(app);
        app.Lifetime.ApplicationStarted.Register(() => app.Services.GetRequiredService<NodeReadiness>().MarkReady());
        return app;
    }

    /// <summary>Creates the store, or checks that its partition count is the config's (<see cref="StoreMismatchException"/> if not).</summary>
    public static void OpenStore(WebApplication app) => app.Services.GetRequiredService<StoreLayout>().EnsureCreated();

    /// <summary>Opens the store and starts the node (tests).</summary>
    public static async Task<WorkerNode> StartAsync(NodeContext context, CounterConfig config, CancellationToken cancellationToken = default)
    {
        var app = Build(context, config);
        try
        {
            OpenStore(app);
            await app.StartAsync(cancellationToken);
        }
        catch
        {
            await app.DisposeAsync();
            throw;
        }

        return new WorkerNode(app);
    }

    public async ValueTask DisposeAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        // The listener finishes its requests first; disposing the host then commits what they queued and closes the files.
        await App.StopAsync(timeout.Token);
        await App.DisposeAsync();
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "worker {NodeId} up on {Port}: {Partitions} partitions, durability {Durability}")]
    private static partial void LogListening(ILogger logger, string nodeId, int port, int partitions, string durability);

    [LoggerMessage(Level = LogLevel.Critical, Message = "cannot open the store: {Problem}")]
    private static partial void LogStoreRefused(ILogger logger, string problem);
}
