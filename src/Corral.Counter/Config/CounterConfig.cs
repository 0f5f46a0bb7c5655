using System.Text.Json;
using Corral.Node.Storage;

namespace Corral.Counter.Config;

/// <summary>The counter app's whole config: what the topology file says, validated, with defaults filled in.</summary>
public sealed record CounterConfig
{
    public const int DefaultCoordinatorPort = 5000;
    public const int DefaultWorkerPort = 5001;

    public int Workers { get; init; } = 4;

    /// <summary>Workers' own ports, in order (the original's URL list); empty: <see cref="WorkerPort"/> + i.</summary>
    public IReadOnlyList<int> WorkerPorts { get; init; } = [];

    /// <summary>Tenants hash to this many partitions, each its own SQLite file; fixed when the store is created.</summary>
    public int Partitions { get; init; } = 32;

    /// <summary>When a worker acknowledges a write: sync (200 once committed), fsync (also fsynced) or periodic (202 from memory, persisted every <see cref="PersistInterval"/>).</summary>
    public Durability Durability { get; init; } = Durability.Sync;

    /// <summary>How often <c>durability: periodic</c> persists what it acknowledged (the original's <c>worker_persist</c>).</summary>
    public TimeSpan PersistInterval { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>The store's folder; null means <c>&lt;data dir&gt;/counter</c>.</summary>
    public string? StorePath { get; init; }

    /// <summary>A folder where each worker also writes its log lines to a file named after its port (the original's <c>worker_logs</c>).</summary>
    public string? WorkerLogs { get; init; }

    public int CoordinatorPort { get; init; } = DefaultCoordinatorPort;
    public int WorkerPort { get; init; } = DefaultWorkerPort;

    /// <summary>The most items one <c>POST /items</c> may carry.</summary>
    public int BatchLimit { get; init; } = 10_000;

    /// <summary>One forward's wait for a worker's answer.</summary>
    public TimeSpan ForwardTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>How long the coordinator keeps re-routing a request's items before it answers 503.</summary>
    public TimeSpan RetryBudget { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Set when the config came from the original's <c>config.yaml</c> (for the start-up notes).</summary>
    public bool FromOriginal { get; init; }

    public JsonElement ToJson() => JsonSerializer.SerializeToElement(this, CounterJson.Default.CounterConfig);

    public static CounterConfig FromJson(JsonElement element) =>
        element.ValueKind == JsonValueKind.Object ? element.Deserialize(CounterJson.Default.CounterConfig) ?? new() : new();

    /// <summary>The store folder a node uses.</summary>
    public string StoreFolder(string dataDirectory) => StorePath ?? Path.Combine(dataDirectory, "counter");
}
