using Corral.Balancer.Config;
using Corral.Balancer.Proxy;
using Corral.Node.Randomness;

namespace Corral.Balancer.Policies;

/// <summary>Picks one worker out of the available ones (never empty, ordered by id). Pure apart from its own counter or random source.</summary>
internal interface IBalancingPolicy
{
    Backend Pick(IReadOnlyList<Backend> available);
}

internal static class BalancingPolicies
{
    public static IBalancingPolicy Create(BalancingPolicyKind kind, SeededRandom random) => kind switch
    {
        BalancingPolicyKind.PowerOfTwo => new PowerOfTwoChoicesPolicy(random),
        BalancingPolicyKind.LeastRequests => new LeastRequestsPolicy(),
        _ => new RoundRobinPolicy(),
    };
}

/// <summary>
/// Each request takes the next of the available workers. The first request goes to the first worker (002 pre-incremented
/// and started at the second), and a down worker is skipped without handing its turn to its neighbour twice.
/// </summary>
internal sealed class RoundRobinPolicy : IBalancingPolicy
{
    private long _next = -1;

    public Backend Pick(IReadOnlyList<Backend> available) =>
        available[(int)((ulong)Interlocked.Increment(ref _next) % (ulong)available.Count)];
}

/// <summary>Two distinct workers drawn at random; the one with fewer requests in flight wins (the first on a tie).</summary>
internal sealed class PowerOfTwoChoicesPolicy(SeededRandom random) : IBalancingPolicy
{
    public Backend Pick(IReadOnlyList<Backend> available)
    {
        if (available.Count == 1) return available[0];
        var first = random.NextInt(available.Count);
        var second = random.NextInt(available.Count - 1);
        if (second >= first) second++;
        var a = available[first];
        var b = available[second];
        return b.InFlight < a.InFlight ? b : a;
    }
}

/// <summary>The worker with the fewest requests in flight; ties rotate, so idle workers share the load evenly.</summary>
internal sealed class LeastRequestsPolicy : IBalancingPolicy
{
    private long _rotation = -1;

    public Backend Pick(IReadOnlyList<Backend> available)
    {
        var start = (int)((ulong)Interlocked.Increment(ref _rotation) % (ulong)available.Count);
        var best = available[start];
        for (var i = 1; i < available.Count; i++)
        {
            var candidate = available[(start + i) % available.Count];
            if (candidate.InFlight < best.InFlight) best = candidate;
        }

        return best;
    }
}
