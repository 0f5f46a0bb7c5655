using System.Text.Json;
using Corral.Balancer.Config;
using Corral.Node.Control;
using Corral.Node.Nodes;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Corral.Balancer.Proxy;

/// <summary>
/// Follows the supervisor's membership feed (the workers to balance over; the node is ready from the first snapshot)
/// and its config feed (every setting applies from the next request), until the node stops.
/// </summary>
internal sealed partial class BalancerFeeds(BackendPool pool, BalancerState state, NodeReadiness readiness, ControlClient control,
    ILogger<BalancerFeeds> logger) : BackgroundService
{
    protected override Task ExecuteAsync(CancellationToken stoppingToken) => FollowAsync(control, stoppingToken);

    public Task FollowAsync(ControlClient from, CancellationToken cancellationToken) =>
        Task.WhenAll(FollowMembershipAsync(from, cancellationToken), FollowConfigAsync(from, cancellationToken));

    private async Task FollowMembershipAsync(ControlClient from, CancellationToken cancellationToken)
    {
        try
        {
            await foreach (var change in from.WatchMembershipAsync(cancellationToken))
            {
                var members = change.Snapshot.OfRole(BalancerPlan.WorkerRole)
                    .Where(m => m.Urls.ContainsKey("http"))
                    .Select(m => new WorkerAddress(m.NodeId, new Uri(m.Url("http"))))
                    .ToArray();
                pool.Update(members);
                readiness.MarkReady();
                LogMembership(logger, change.Change.ToString(), change.Member?.NodeId ?? "-", members.Length);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }

    private async Task FollowConfigAsync(ControlClient from, CancellationToken cancellationToken)
    {
        try
        {
            await foreach (var document in from.WatchConfigAsync(cancellationToken))
            {
                BalancerConfig config;
                try
                {
                    config = BalancerConfig.FromJson(document.Config);
                }
                catch (JsonException e)
                {
                    // One version it cannot read must not end the feed: the last good config stays, the next good one applies.
                    LogBadConfig(logger, document.Version, e.Message);
                    continue;
                }

                // Every setting applies from the next request, timeouts included (the connect timeout from the next connection).
                state.Update(config);
                LogConfig(logger, document.Version, config.Policy.ToString());
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "membership {Change} {NodeId}: {Count} worker(s)")]
    private static partial void LogMembership(ILogger logger, string change, string nodeId, int count);

    [LoggerMessage(Level = LogLevel.Information, Message = "config version {Version} applied (policy {Policy})")]
    private static partial void LogConfig(ILogger logger, long version, string policy);

    [LoggerMessage(Level = LogLevel.Warning, Message = "config version {Version} skipped, this balancer cannot read it (the last good one stays): {Error}")]
    private static partial void LogBadConfig(ILogger logger, long version, string error);
}
