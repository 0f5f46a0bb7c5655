using System.Text.Json;
using Corral.Balancer.Config;
using Corral.Balancer.Proxy;
using Corral.Balancer.Worker;
using Corral.Node.Apps;
using Corral.Node.Dashboard;
using Corral.Node.Nodes;
using Corral.Node.Planning;
using Corral.Node.Topology;

namespace Corral.Balancer;

/// <summary>The balancer app (seed 002): fault-injecting workers behind health-checked load balancers. It runs until stopped.</summary>
public sealed class BalancerModule : IAppModule, IDashboardPanel
{
    public DashboardPanel Panel { get; } = Dashboard.BalancerPanel.Create();

    public string Name => BalancerPlan.App;

    public IReadOnlyList<string> Roles { get; } = [BalancerPlan.WorkerRole, BalancerPlan.BalancerRole];

    public bool RecognisesOriginal(TopologyNode root) => BalancerConfigReader.IsOriginal(root);

    public LoadedApp Load(TopologyDocument document, TopologyDiagnostics diagnostics)
    {
        var (config, reader) = BalancerConfigReader.Read(document, diagnostics);
        var plan = BalancerPlan.Create(config);
        if (reader is not null && !BalancerConfigReader.IsOriginal(document.Root))
        {
            plan = RestartCaps.Apply(reader, plan);
        }

        return new LoadedApp(this, plan, config.ToJson());
    }

    public Task<int> RunNodeAsync(string role, NodeContext context, string[] args, CancellationToken cancellationToken) => role switch
    {
        BalancerPlan.WorkerRole => WorkerNode.RunAsync(context, cancellationToken),
        BalancerPlan.BalancerRole => BalancerNode.RunAsync(context, args, cancellationToken),
        _ => throw new ArgumentException($"unknown role '{role}': the balancer app runs {string.Join(" and ", Roles)}", nameof(role)),
    };

    /// <summary>The balancer keeps no history to check: its statistics are the record.</summary>
    public CheckReport Check(string runFolder) => new(true, [], ["the balancer app has no history checker; see /worker/stats and /lb/stats"]);

    public IEnumerable<string> DescribeOutcome(JsonElement summary, string runFolder) => ["balancer: stopped"];
}
