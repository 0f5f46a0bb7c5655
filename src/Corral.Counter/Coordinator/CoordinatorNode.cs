using Corral.Counter.Config;
using Corral.Counter.Store;
using Corral.Node.Control;
using Corral.Node.Nodes;
using Corral.Node.Storage;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Corral.Counter.Coordinator;

/// <summary>
/// The <c>counter.coordinator</c> node: the <see cref="CoordinatorApi"/> over a <see cref="Forwarder"/> that routes by
/// the <see cref="OwnerTable"/>, which the supervisor's membership feed keeps. A started node (<see cref="StartAsync"/>)
/// hands tests its collaborators.
/// </summary>
public sealed partial class CoordinatorNode : IAsyncDisposable
{
    private CoordinatorNode(WebApplication app) => App = app;

    public WebApplication App { get; }
    public OwnerTable Owners => App.Services.GetRequiredService<OwnerTable>();
    public Forwarder Forwarder => App.Services.GetRequiredService<Forwarder>();
    internal IngestActivity Ingest => App.Services.GetRequiredService<IngestActivity>();
    public int Port => App.BoundPort();

    /// <summary>The node's entry point under <c>corral node counter.coordinator</c>; 1 when the store on disk does not fit the config.</summary>
    public static async Task<int> RunAsync(NodeContext context, CancellationToken cancellationToken)
    {
        var config = CounterConfig.FromJson(context.Config);
        await using var app = Build(context, config);
        var logger = app.Services.GetRequiredService<ILogger<CoordinatorNode>>();
        var folder = config.StoreFolder(context.DataDirectory);
        try
        {
            new StoreLayout(folder, config.Partitions).EnsureCreated();
        }
        catch (StoreMismatchException e)
        {
            LogStoreRefused(logger, e.Message);
            return 1;
        }

        app.Lifetime.ApplicationStarted.Register(() =>
        {
            LogUp(logger, app.BoundPort(), config.Partitions, folder);
            LogDurability(logger, Describe(config));
        });
        return await NodeHost.RunAsync(app, cancellationToken);
    }

    /// <summary>Builds the node; it routes by the membership feed of the control API its context names.</summary>
    public static WebApplication Build(NodeContext context, CounterConfig config)
    {
        var builder = NodeHost.CreateBuilder(context).AddJsonContext(CounterJson.Default);
        builder.Services.AddSingleton(config);
        builder.Services.AddSingleton(sp => new OwnerTable(config.Partitions, sp.GetRequiredService<TimeProvider>()));
        builder.Services.AddSingleton(sp => new Forwarder(sp.GetRequiredService<OwnerTable>(), config, context.Token, context.Time,
            sp.GetRequiredService<ILogger<Forwarder>>()));
        builder.Services.AddSingleton<IngestActivity>();
        builder.Services.AddSingleton<CoordinatorApi>();
        builder.Services.AddHostedService<CoordinatorMembership>();
        var app = builder.Build();
        app.UseNodeDefaults();
        app.Services.GetRequiredService<CoordinatorApi>().Map(app);
        return app;
    }

    /// <summary>Builds and starts a node (tests); it is ready once it has workers (<see cref="UseWorkers"/> or the feed).</summary>
    public static async Task<CoordinatorNode> StartAsync(NodeContext context, CounterConfig config, CancellationToken cancellationToken = default)
    {
        var app = Build(context, config);
        await app.StartAsync(cancellationToken);
        return new CoordinatorNode(app);
    }

    /// <summary>The one line at start that says when a write is acknowledged (and, for the original's file, what <c>worker_persist</c> does).</summary>
    internal static string Describe(CounterConfig config) => config.Durability switch
    {
        Durability.Periodic => $"durability periodic: POST /items answers 202 once the items are in a worker's memory; they are persisted every " +
            $"{config.PersistInterval.TotalSeconds:0.###} s, a crash loses at most that much, and counts lag by as much",
        _ => $"durability {(config.Durability == Durability.Fsync ? "fsync (synchronous=FULL: survives power loss)" : "sync (synchronous=NORMAL: survives any process's SIGKILL)")}: " +
            "POST /items answers 200 only after every item is committed" +
            (config.FromOriginal ? $"; the original's worker_persist ({config.PersistInterval.TotalSeconds:0.###} s) only sets the interval of 'durability: periodic'" : ""),
    };

    /// <summary>Routes to a fixed set of workers (tests and benchmarks without a supervisor).</summary>
    public void UseWorkers(MembershipSnapshot snapshot)
    {
        Owners.Update(snapshot, CounterPlan.WorkerRole);
        App.Services.GetRequiredService<NodeReadiness>().MarkReady();
    }

    internal OwnersView OwnersNow() => App.Services.GetRequiredService<CoordinatorApi>().OwnersNow();

    public async ValueTask DisposeAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        await App.StopAsync(timeout.Token);
        await App.DisposeAsync();
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Coordinator is up on :{Port} ({Partitions} partitions, store {Store})")]
    private static partial void LogUp(ILogger logger, int port, int partitions, string store);

    [LoggerMessage(Level = LogLevel.Information, Message = "{Line}")]
    private static partial void LogDurability(ILogger logger, string line);

    [LoggerMessage(Level = LogLevel.Critical, Message = "cannot open the store: {Problem}")]
    private static partial void LogStoreRefused(ILogger logger, string problem);
}
