using Corral.Balancer.Config;
using Corral.Balancer.Proxy;
using Corral.Balancer.Tests.Helpers;

namespace Corral.Balancer.Tests.Proxy;

/// <summary>Starts an in-process balancer on port 0 in front of a fixed list of workers.</summary>
public static class Balancers
{
    public static BalancerConfig Config(Func<BalancerConfig, BalancerConfig>? adjust = null)
    {
        var config = new BalancerConfig
        {
            HealthCheck = new HealthCheckConfig { Path = "/hello", Interval = TimeSpan.FromSeconds(1), Timeout = TimeSpan.FromMilliseconds(500) },
        };
        return adjust is null ? config : adjust(config);
    }

    // A balancer keeps nothing on disk (only workers write balancer.db), so it needs no folder of its own.
    public static Task<BalancerNode> StartAsync(BalancerConfig config, params string[] workerUrls) =>
        BalancerNode.StartAsync(
            TestNodes.Context("lb-1", BalancerPlan.BalancerRole, Path.GetTempPath()) with
            {
                Ports = new Dictionary<string, int> { ["http"] = 0, [BalancerNode.H2cPortName] = 0 },
            },
            config,
            workerUrls.Select((url, i) => new WorkerAddress($"worker-{i + 1}", new Uri(url))).ToArray());
}

/// <summary>Tests that measure the process's allocations must not share it with other tests.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class Serial
{
    public const string Name = "serial";
}
