using Corral.Node.Nodes;

namespace Corral.Balancer.Proxy;

/// <summary>What <c>GET /lb/stats</c> answers, read from the pool, the config and the proxy's counters.</summary>
internal sealed class BalancerStats(NodeContext context, BackendPool pool, BalancerState state, BalancerProxy proxy)
{
    public BalancerStatsView View()
    {
        var now = context.Time.GetUtcNow();
        var workers = pool.All.Select(b => b.Snapshot(now)).ToArray();
        return new BalancerStatsView(context.NodeId, state.Config.Policy.ToString(), workers.Sum(w => w.Requests),
            workers.Sum(w => w.Failures), workers.Sum(w => w.Retries), workers)
        {
            InFlight = proxy.Active,
            RetriesInFlight = proxy.Budget.InFlight,
            RetriesRefused = proxy.Budget.Refused,
            Panic = proxy.Panicking,
            PanicRequests = proxy.PanicRequests,
        };
    }
}

/// <summary>What <c>GET /lb/stats</c> answers: this balancer's totals and its view of every worker.</summary>
internal sealed record BalancerStatsView(string Node, string Policy, long Requests, long Failures, long Retries,
    IReadOnlyList<BackendStats> Workers)
{
    /// <summary>Client requests being forwarded now.</summary>
    public int InFlight { get; init; }

    /// <summary>Retries holding the retry budget now.</summary>
    public int RetriesInFlight { get; init; }

    /// <summary>Retries the budget refused since the balancer started (each one cost a client an error).</summary>
    public long RetriesRefused { get; init; }

    /// <summary>Whether the last request was routed in panic: too few workers healthy, so all of them were used.</summary>
    public bool Panic { get; init; }

    /// <summary>Requests routed in panic since the balancer started.</summary>
    public long PanicRequests { get; init; }
}
