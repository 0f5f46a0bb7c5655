using System.Text.Json;
using Corral.Node.Control;
using Corral.Node.Nodes;
using Corral.Node.Storage;
using Corral.Shootout.Checking;
using Corral.Shootout.Config;
using Corral.Shootout.Store;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Corral.Shootout.Server;

/// <summary>The <c>shootout.server</c> node: the game engine behind the shootout API, reporting the outcome when the last round is won.</summary>
public static partial class ShootoutServer
{
    /// <summary>Builds the node (store opened and replayed); <see cref="NodeHost.RunAsync"/> runs it.</summary>
    public static WebApplication Build(NodeContext context, ShootoutConfig config, Durability? durability = null) =>
        Build(context, config, durability, lockTimeout: null);

    /// <summary>As <see cref="Build(NodeContext, ShootoutConfig, Durability?)"/>, with how long a commit may wait for the store's write lock.</summary>
    internal static WebApplication Build(NodeContext context, ShootoutConfig config, Durability? durability, TimeSpan? lockTimeout)
    {
        var builder = NodeHost.CreateBuilder(context);
        builder.AddJsonContext(ShootoutJson.Default);
        return BuildApp(builder, context, config, durability ?? config.Durability, lockTimeout);
    }

    private static WebApplication BuildApp(WebApplicationBuilder builder, NodeContext context, ShootoutConfig config, Durability durability, TimeSpan? lockTimeout)
    {
        builder.Services.AddSingleton(config);
        builder.Services.AddSingleton(sp => GameEngine.Open(config, config.Seed ?? context.Seed,
            Path.Combine(context.DataDirectory, ShootoutStore.FileName), Path.Combine(context.RunDirectory, ShootoutChecker.EventsFile),
            context.RunId, context.Time, sp.GetRequiredService<ILogger<GameEngine>>(), durability, lockTimeout));
        builder.Services.AddHostedService<OutcomeReporter>();
        var app = builder.Build();
        app.UseNodeDefaults();
        app.MapShootout();
        app.Lifetime.ApplicationStarted.Register(() => app.Services.GetRequiredService<NodeReadiness>().MarkReady());
        return app;
    }

    public static async Task<int> RunAsync(NodeContext context, ShootoutConfig config, CancellationToken cancellationToken)
    {
        GameEngine engine;
        int exit;
        await using (var app = Build(context, config))
        {
            engine = app.Services.GetRequiredService<GameEngine>();
            exit = await NodeHost.RunAsync(app, cancellationToken);
        }

        // A store failure stops the node with a non-zero code, so the supervisor restarts it from what was committed.
        return engine.Completion.IsFaulted ? 1 : exit;
    }

    /// <summary>Reports <c>finished</c> to the supervisor once every round has a winner; stops the node if the store fails.</summary>
    private sealed partial class OutcomeReporter(GameEngine engine, ControlClient control, IHostApplicationLifetime lifetime, ILogger<OutcomeReporter> logger)
        : BackgroundService
    {
        protected override async Task ExecuteAsync(CancellationToken stoppingToken)
        {
            _ = engine.Completion.ContinueWith(t =>
            {
                if (t.IsFaulted) lifetime.StopApplication();
            }, TaskScheduler.Default);

            var summary = await engine.Finished.WaitAsync(stoppingToken);
            LogFinished(logger, string.Join(", ", summary.Winners.Select(w => $"round {w.Round}: {w.Winner}")));
            await control.ReportFinishedAsync(new RunOutcome(true, JsonSerializer.SerializeToElement(summary, ShootoutJson.Default.ShootoutSummary)), stoppingToken);
        }

        [LoggerMessage(Level = LogLevel.Information, Message = "The shootout is over ({Winners}); reporting to the supervisor")]
        private static partial void LogFinished(ILogger logger, string winners);
    }
}
