using System.Text.Json;
using Corral.Counter.Config;
using Corral.Counter.Coordinator;
using Corral.Counter.Worker;
using Corral.Node.Apps;
using Corral.Node.Dashboard;
using Corral.Node.Nodes;
using Corral.Node.Planning;
using Corral.Node.Topology;

namespace Corral.Counter;

/// <summary>The counter app (seed 003): exact, durable per-tenant distinct counts behind a coordinator. It runs until stopped.</summary>
public sealed class CounterModule : IAppModule, IDashboardPanel
{
    public DashboardPanel Panel { get; } = Dashboard.CounterPanel.Create();

    public string Name => CounterPlan.App;

    public IReadOnlyList<string> Roles { get; } = [CounterPlan.CoordinatorRole, CounterPlan.WorkerRole];

    public bool RecognisesOriginal(TopologyNode root) => CounterConfigReader.IsOriginal(root);

    public LoadedApp Load(TopologyDocument document, TopologyDiagnostics diagnostics)
    {
        var (config, reader) = CounterConfigReader.Read(document, diagnostics);
        var plan = CounterPlan.Create(config);
        if (reader is not null && !CounterConfigReader.IsOriginal(document.Root))
        {
            plan = RestartCaps.Apply(reader, plan);
        }

        return new LoadedApp(this, plan, config.ToJson());
    }

    /// <summary>The store's folder and partition count are fixed for a run: the nodes hold its files open.</summary>
    public string? ReloadProblem(JsonElement running, JsonElement next)
    {
        var (was, now) = (CounterConfig.FromJson(running), CounterConfig.FromJson(next));
        if (was.StorePath != now.StorePath)
        {
            return $"the store's folder changed from {was.StorePath ?? "<data>/counter"} to {now.StorePath ?? "<data>/counter"}; " +
                "the store cannot move while the counter runs: stop corral, move the folder, and start it again";
        }

        return was.Partitions != now.Partitions
            ? $"partitions changed from {was.Partitions} to {now.Partitions}; a store's partition count is fixed when it is created"
            : null;
    }

    public Task<int> RunNodeAsync(string role, NodeContext context, string[] args, CancellationToken cancellationToken) => role switch
    {
        CounterPlan.CoordinatorRole => CoordinatorNode.RunAsync(context, cancellationToken),
        CounterPlan.WorkerRole => WorkerNode.RunAsync(context, cancellationToken),
        _ => throw new ArgumentException($"unknown role '{role}': the counter app runs {string.Join(" and ", Roles)}", nameof(role)),
    };

    /// <summary>The counter keeps no history to check: its store is the record.</summary>
    public CheckReport Check(string runFolder) => new(true, [], ["the counter app has no history checker; its store holds the counts"]);

    public IEnumerable<string> DescribeOutcome(JsonElement summary, string runFolder) => ["counter: stopped"];
}
