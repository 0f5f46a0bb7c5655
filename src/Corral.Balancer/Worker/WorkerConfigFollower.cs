using System.Text.Json;
using Corral.Balancer.Config;
using Corral.Node.Control;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Corral.Balancer.Worker;

/// <summary>
/// A reloaded topology may change the workers' delay and failure rate. Only what changed from the previous version
/// is applied, so the feed's first (current) version, or an edit of another key, does not undo a <c>PUT /faults</c>.
/// </summary>
internal sealed partial class WorkerConfigFollower(BalancerConfig initial, WorkerApp app, ControlClient control, ILogger<WorkerConfigFollower> logger)
    : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var last = initial;
        try
        {
            await foreach (var document in control.WatchConfigAsync(stoppingToken))
            {
                BalancerConfig next;
                try
                {
                    next = BalancerConfig.FromJson(document.Config);
                }
                catch (JsonException e)
                {
                    LogUnreadable(logger, document.Version, e.Message);
                    continue;
                }

                var faults = app.Faults;
                if (next.AvgDelay != last.AvgDelay) faults = faults with { AvgDelay = next.AvgDelay };
                if (next.FailurePercent != last.FailurePercent) faults = faults with { FailurePercent = next.FailurePercent };
                if (faults != app.Faults) await app.SetFaultsAsync(faults);

                last = next;
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "config version {Version} skipped, this worker cannot read it: {Error}")]
    private static partial void LogUnreadable(ILogger logger, long version, string error);
}
