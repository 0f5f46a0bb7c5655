using Corral.Node.Control;
using Corral.Node.Nodes;
using Corral.WorkQueue.Config;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Corral.WorkQueue.Worker;

/// <summary>The <c>workqueue.worker</c> node: <c>/healthz</c> and <c>/readyz</c> around the <see cref="WorkerLoop"/>.</summary>
internal static class WorkerNode
{
    /// <summary>How long a worker keeps trying an unreachable controller (a restart, a resume) before it exits non-zero.</summary>
    public static readonly TimeSpan ControllerBudget = TimeSpan.FromSeconds(60);

    public static WebApplication Build(NodeContext context, WorkQueueConfig config, ISpecRunner? runner = null, Uri? controller = null)
    {
        var builder = NodeHost.CreateBuilder(context);
        builder.AddJsonContext(WorkQueueJson.Default);
        builder.Services.AddSingleton(config);
        builder.Services.AddSingleton<ISpecRunner>(sp => new CheckedSpecRunner(runner ?? new ProcessSpecRunner(config, context, context.Time), config,
            sp.GetRequiredService<ILogger<CheckedSpecRunner>>()));
        builder.Services.AddSingleton(sp => new QueueClient(context, sp.GetRequiredService<ControlClient>(), ControllerBudget) { FixedController = controller });
        builder.Services.AddSingleton<WorkerLoop>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<WorkerLoop>());
        var app = builder.Build();
        app.UseNodeDefaults();
        app.Lifetime.ApplicationStarted.Register(() => app.Services.GetRequiredService<NodeReadiness>().MarkReady());
        return app;
    }

    public static async Task<int> RunAsync(NodeContext context, WorkQueueConfig config, CancellationToken cancellationToken)
    {
        await using var app = Build(context, config);
        return await NodeHost.RunAsync(app, cancellationToken);
    }
}
