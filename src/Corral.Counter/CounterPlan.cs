using System.Globalization;
using Corral.Counter.Config;
using Corral.Node.Planning;

namespace Corral.Counter;

/// <summary>Turns a counter config into the supervisor's plan: the workers, then the coordinator once they are ready.</summary>
public static class CounterPlan
{
    public const string App = "counter";
    public const string CoordinatorRole = "counter.coordinator";
    public const string WorkerRole = "counter.worker";

    public static AppPlan Create(CounterConfig config) => new()
    {
        App = App,
        Roles =
        [
            new RolePlan
            {
                Role = WorkerRole,
                NodePrefix = "worker",
                Count = config.Workers,
                Ports = [new PlannedPort("http", config.WorkerPort)],
                PortOverrides = config.WorkerPorts.Select((port, i) => new NodePortOverride(i + 1, "http", port)).ToArray(),
                Scalable = true,
                // Not read by the node (its config comes from the control API): they make a reload that changes them
                // restart the workers, which read these settings only at start.
                Args = ["--durability", config.Durability.ToString().ToLowerInvariant(), "--persist", Seconds(config.PersistInterval),
                    "--batch-limit", Invariant(config.BatchLimit)],
                // A drain finishes the requests in hand and commits what they queued: seconds at most.
                GracePeriod = TimeSpan.FromSeconds(15),
                Folders = StoreFolders(config),
            },
            new RolePlan
            {
                Role = CoordinatorRole,
                NodePrefix = "coordinator",
                Count = 1,
                Singleton = true,
                Ports = [new PlannedPort("http", config.CoordinatorPort)],
                DependsOn = [WorkerRole],
                Args = ["--batch-limit", Invariant(config.BatchLimit), "--forward-timeout", Seconds(config.ForwardTimeout),
                    "--retry-budget", Seconds(config.RetryBudget)],
                Folders = StoreFolders(config),
            },
        ],
    };

    /// <summary>A store the topology placed outside the data folder: nodes in containers must see it at the same path.</summary>
    private static IReadOnlyList<string> StoreFolders(CounterConfig config) => config.StorePath is { } store ? [store] : [];

    private static string Seconds(TimeSpan value) => value.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture) + "s";

    private static string Invariant(int value) => value.ToString(CultureInfo.InvariantCulture);
}
