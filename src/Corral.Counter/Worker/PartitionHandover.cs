using Corral.Counter.Partitioning;
using Corral.Node.Control;
using Corral.Node.Nodes;
using Microsoft.Extensions.Hosting;

namespace Corral.Counter.Worker;

/// <summary>
/// Lets go of the partitions the membership gives to another worker: each is drained (its queued commits finish)
/// and closed, so the new owner finds the file free. The epoch keeps this safe even when the views differ.
/// </summary>
internal sealed class PartitionHandover(NodeContext context, PartitionSet partitions, ControlClient control) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await foreach (var change in control.WatchMembershipAsync(stoppingToken))
            {
                var workers = change.Snapshot.OfRole(CounterPlan.WorkerRole).Select(m => m.NodeId).Order(StringComparer.Ordinal).ToArray();
                if (!workers.Contains(context.NodeId)) continue;
                foreach (var partition in partitions.Open().Keys)
                {
                    var owner = workers[Rendezvous.Owner(partition, workers)];
                    if (owner != context.NodeId) await partitions.ReleaseAsync(partition, $"{owner} owns it now");
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }
}
