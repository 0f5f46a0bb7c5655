using Corral.Node.Control;
using Corral.Node.Nodes;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Corral.Counter.Coordinator;

/// <summary>Routes by the supervisor's membership feed; the coordinator is ready once the first snapshot is in.</summary>
internal sealed partial class CoordinatorMembership(OwnerTable owners, NodeReadiness readiness, ControlClient control,
    ILogger<CoordinatorMembership> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await foreach (var change in control.WatchMembershipAsync(stoppingToken))
            {
                owners.Update(change.Snapshot, CounterPlan.WorkerRole);
                readiness.MarkReady();
                if (change.Member is { Role: CounterPlan.WorkerRole } member)
                {
                    LogMembership(logger, change.Change.ToString(), member.NodeId, owners.Current.Workers.Count);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "membership {Change} {NodeId}: {Count} worker(s) routed")]
    private static partial void LogMembership(ILogger logger, string change, string nodeId, int count);
}
