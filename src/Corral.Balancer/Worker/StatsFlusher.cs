using Corral.Balancer.Config;
using Corral.Node.Nodes;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Corral.Balancer.Worker;

/// <summary>
/// Writes the worker's statistics row every <c>stats-flush-interval</c>, and once more when the node stops: it stops
/// after the <see cref="ServiceListener"/>, so the last write holds every request the worker answered.
/// </summary>
internal sealed partial class StatsFlusher(NodeContext context, BalancerConfig config, WorkerApp app, ILogger<StatsFlusher> logger)
    : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(config.StatsFlushInterval, context.Time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                try
                {
                    await app.FlushAsync(stoppingToken);
                }
                catch (Exception e) when (e is SqliteException or IOException)
                {
                    LogFlushFailed(logger, e.Message);
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        await app.FlushAsync(CancellationToken.None);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "could not write statistics: {Error}")]
    private static partial void LogFlushFailed(ILogger logger, string error);
}
