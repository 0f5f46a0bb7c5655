using Corral.Balancer.Config;
using Corral.Balancer.Store;
using Corral.Node.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;

namespace Corral.Balancer.Worker;

/// <summary>
/// The <c>balancer.worker</c> node: its host is the admin listener (probes, faults, stats); the service listener
/// (hello and stats, the balancers' traffic) is a <see cref="ServiceListener"/> of its own, which an outage closes and
/// reopens. A started node (<see cref="StartAsync"/>) hands tests its collaborators.
/// </summary>
public sealed class WorkerNode : IAsyncDisposable
{
    /// <summary>How long a draining worker keeps serving after it announced it is leaving.</summary>
    public static readonly TimeSpan DrainGrace = TimeSpan.FromSeconds(1);

    private Task? _stopping;

    private WorkerNode(WebApplication admin) => Admin = admin;

    public WebApplication Admin { get; }
    internal WorkerApp App => Admin.Services.GetRequiredService<WorkerApp>();
    public int ServicePort => Admin.Services.GetRequiredService<ServiceListener>().Port;
    internal WebApplication? ServiceApp => Admin.Services.GetRequiredService<ServiceListener>().App;
    public int AdminPort => Admin.BoundPort();

    /// <summary>The node's entry point under <c>corral node balancer.worker</c>: runs until SIGTERM or cancellation, then drains.</summary>
    public static async Task<int> RunAsync(NodeContext context, CancellationToken cancellationToken)
    {
        await using var app = Build(context, BalancerConfig.FromJson(context.Config));
        return await NodeHost.RunAsync(app, cancellationToken);
    }

    /// <summary>Builds the node: its statistics row restored from the store, the service listener opened at start.</summary>
    public static WebApplication Build(NodeContext context, BalancerConfig config)
    {
        var builder = NodeHost.CreateBuilder(context, "admin").AddJsonContext(BalancerJson.Default);
        builder.Services.AddSingleton(config);
        builder.Services.AddSingleton(_ => new WorkerStatsStore(config.StatsPath ?? Path.Combine(context.DataDirectory, "balancer.db"), context.RunId,
            context.RunDirectory));
        // SQLite's calls complete synchronously: the row is read here, before the first request can count.
        builder.Services.AddSingleton(sp =>
        {
            var store = sp.GetRequiredService<WorkerStatsStore>();
            return new WorkerApp(context, config, store, store.LoadAsync(context.NodeId).GetAwaiter().GetResult());
        });
        builder.Services.AddSingleton<ServiceListener>();
        // Stopped in reverse order: the service listener closes (its requests finish), then the last statistics are written.
        builder.Services.AddHostedService<StatsFlusher>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<ServiceListener>());
        builder.Services.AddHostedService<WorkerConfigFollower>();
        var admin = builder.Build();
        admin.UseNodeDefaults();
        admin.Services.GetRequiredService<WorkerApp>().MapAdmin(admin);
        admin.Services.GetRequiredService<NodePorts>().Add("http", () => admin.Services.GetRequiredService<ServiceListener>().Port);
        return admin;
    }

    /// <summary>Builds and starts a node (tests, benchmarks); <see cref="StopAsync"/> drains it.</summary>
    public static async Task<WorkerNode> StartAsync(NodeContext context, BalancerConfig config, CancellationToken cancellationToken = default)
    {
        var admin = Build(context, config);
        await admin.StartAsync(cancellationToken);
        return new WorkerNode(admin);
    }

    /// <summary>Drains: stops taking requests, lets in-flight ones finish, then writes the final statistics.</summary>
    public Task StopAsync() => _stopping ??= StopCoreAsync();

    private async Task StopCoreAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        await Admin.StopAsync(timeout.Token);
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        await Admin.DisposeAsync();
    }
}
