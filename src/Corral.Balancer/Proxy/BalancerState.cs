using Corral.Balancer.Config;
using Corral.Balancer.Policies;
using Corral.Node.Randomness;

namespace Corral.Balancer.Proxy;

/// <summary>The config and policy a balancer runs with now; swapped as one reference on a hot reload.</summary>
internal sealed class BalancerState
{
    private readonly SeededRandom _random;
    private volatile Snapshot _current;

    public BalancerState(BalancerConfig config, SeededRandom random)
    {
        _random = random;
        _current = new Snapshot(config, BalancingPolicies.Create(config.Policy, random));
    }

    public BalancerConfig Config => _current.Config;
    public IBalancingPolicy Policy => _current.Policy;

    /// <summary>Applies a reloaded config. The policy object (and its rotation) survives unless the policy kind changed.</summary>
    public void Update(BalancerConfig config)
    {
        var current = _current;
        var policy = current.Config.Policy == config.Policy ? current.Policy : BalancingPolicies.Create(config.Policy, _random);
        _current = new Snapshot(config, policy);
    }

    private sealed record Snapshot(BalancerConfig Config, IBalancingPolicy Policy);
}
