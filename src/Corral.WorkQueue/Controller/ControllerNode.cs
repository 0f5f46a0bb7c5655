using Corral.Node.Control;
using Corral.Node.Nodes;
using Corral.WorkQueue.Config;
using Corral.WorkQueue.PlaywrightRuns;
using Corral.WorkQueue.Reporter;
using Corral.WorkQueue.Store;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Corral.WorkQueue.Controller;

/// <summary>The <c>workqueue.controller</c> node: owns the queue in its store, serves the worker API and the reporter, reports <c>finished</c>.</summary>
internal static class ControllerNode
{
    public static async Task<int> RunAsync(NodeContext context, WorkQueueConfig config, CancellationToken cancellationToken)
    {
        await using var store = await OpenStoreAsync(context, config, cancellationToken);
        await using var app = Build(context, config, store);
        await app.Services.GetRequiredService<QueueService>().StartAsync();
        return await NodeHost.RunAsync(app, cancellationToken);
    }

    public static WebApplication Build(NodeContext context, WorkQueueConfig config, ITaskStore store)
    {
        var builder = NodeHost.CreateBuilder(context);
        builder.AddJsonContext(WorkQueueJson.Default);
        builder.Services.AddSingleton(config);
        builder.Services.AddSingleton(store);
        builder.Services.AddSingleton(sp => new QueueService(store, config, context.RunId, context.Time, sp.GetRequiredService<ILogger<QueueService>>()));
        builder.Services.AddSingleton<ResultsSnapshot>();
        builder.Services.AddHostedService<RunMonitor>();
        builder.Services.AddHostedService<LeaseSweeper>();
        builder.Services.Configure<HostOptions>(o => o.BackgroundServiceExceptionBehavior = BackgroundServiceExceptionBehavior.StopHost);
        var app = builder.Build();
        app.UseNodeDefaults();
        app.MapWorkQueue(context.Credentials);
        app.MapRunReport(context.RunDirectory, async key =>
            (await store.ListAsync()).FirstOrDefault(t => t.Task.Key == key) is { } task
                ? task.IsFinal ? TaskTests.Read(context.RunDirectory, key, task.Attempt) : []
                : config.Skipped.Any(s => s.Task.Key == key) ? [] : null);
        app.Lifetime.ApplicationStarted.Register(() => app.Services.GetRequiredService<NodeReadiness>().MarkReady());
        return app;
    }

    public static QueueRules Rules(WorkQueueConfig config) => new() { Retries = config.Retries, Lease = config.Lease, MaxLostLeases = WorkQueueConfig.MaxLostLeases };

    /// <summary>SQLite under the data folder, the plan's redis-server (found through the membership), or the configured Redis URL.</summary>
    private static async Task<ITaskStore> OpenStoreAsync(NodeContext context, WorkQueueConfig config, CancellationToken cancellationToken)
    {
        if (!config.UsesRedis)
        {
            return SqliteTaskStore.Open(Path.Combine(context.DataDirectory, SqliteTaskStore.FileName), context.RunId, Rules(config), config.Durability,
                context.RunDirectory);
        }

        // The plan's redis-server listens on a unix socket only (the controller starts once it is ready); a Redis the
        // user names keeps its host and port.
        var url = config.ManagedRedis ? WorkQueuePlan.RedisSocket(context.DataDirectory) : config.Store;
        cancellationToken.ThrowIfCancellationRequested();
        return await RedisTaskStore.ConnectAsync(url, context.RunId, Rules(config));
    }
}
