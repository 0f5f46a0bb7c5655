using Corral.Counter.Store;
using Corral.Node.Planning;
using Corral.Node.Storage;
using Corral.Node.Topology;
using Microsoft.Data.Sqlite;

namespace Corral.Counter.Config;

/// <summary>
/// Reads the counter's topology: Corral's own format (<c>app: counter</c>, unknown keys rejected) or seed 003's
/// <c>config.yaml</c> unchanged (<c>workers</c> URLs, <c>database</c>, <c>worker_logs</c>, <c>worker_persist</c>,
/// <c>config_check</c>; unknown keys ignored with a warning).
/// </summary>
internal static class CounterConfigReader
{
    private static readonly string[] OriginalKeys = ["workers", "database", "worker_logs", "worker_persist", "config_check"];

    /// <summary>003's file: no <c>app:</c>, <c>workers</c> as a list of URLs, and at least one more of its keys.</summary>
    public static bool IsOriginal(TopologyNode root) =>
        root is TopologyMapping mapping && !mapping.ContainsKey("app") && mapping["workers"] is TopologySequence
        && mapping.Keys.Count(OriginalKeys.Contains) >= 2;

    public static (CounterConfig Config, MappingReader? Reader) Read(TopologyDocument document, TopologyDiagnostics diagnostics)
    {
        var reader = MappingReader.From(document.Root, diagnostics, "");
        if (reader is null) return (new CounterConfig(), null);
        var baseDirectory = Path.GetDirectoryName(Path.GetFullPath(document.Path)) ?? Directory.GetCurrentDirectory();
        var config = IsOriginal(document.Root) ? ReadOriginal(reader, baseDirectory, document.NodesOffThisMachine) : ReadCorral(reader, baseDirectory);
        CheckStore(config, reader);
        return (config, reader);
    }

    private static CounterConfig ReadOriginal(MappingReader reader, string baseDirectory, bool offThisMachine)
    {
        var d = new CounterConfig();
        var ports = new List<int>();
        var sequence = reader.OptionalSequence("workers")!;
        foreach (var item in sequence.Items)
        {
            if (WorkerPort(item, reader.Diagnostics, offThisMachine) is not { } port) continue;
            if (ports.Contains(port)) reader.Diagnostics.Error(item, $"workers lists port {port} twice: each worker needs its own port");
            else ports.Add(port);
        }

        if (sequence.Items.Count == 0) reader.Diagnostics.Error(sequence, "workers is empty: list at least one worker URL such as http://localhost:5001");
        var database = NonEmpty(reader, "database");
        var logs = NonEmpty(reader, "worker_logs");
        var config = d with
        {
            FromOriginal = true,
            Workers = Math.Max(1, ports.Count),
            WorkerPorts = ports,
            StorePath = database is null ? null : Resolve(database, baseDirectory),
            WorkerLogs = logs is null ? null : Resolve(logs, baseDirectory),
            // The original's worker_persist is whole seconds; in Corral it is the interval of durability: periodic.
            PersistInterval = TimeSpan.FromSeconds(reader.OptionalInt("worker_persist", 1, 86_400) ?? 5),
        };
        if (reader.OptionalInt("config_check", 1, 86_400) is not null)
        {
            reader.Diagnostics.Warn(reader.Mapping["config_check"]!,
                "config_check: Corral reloads this file as soon as it changes and the supervisor watches the workers all the time, so no period is needed");
        }

        reader.WarnUnknownKeys();
        return config;
    }

    /// <summary>
    /// A worker URL's port (<c>http://localhost:5001</c> → 5001); the host must be this machine when Corral starts the
    /// workers here, and may be any when an engine runs them elsewhere (their addresses then come from membership).
    /// </summary>
    private static int? WorkerPort(TopologyNode item, TopologyDiagnostics diagnostics, bool offThisMachine)
    {
        if (item is not TopologyScalar { IsNull: false } scalar
            || !Uri.TryCreate(scalar.Value, UriKind.Absolute, out var url) || url.Scheme != "http" || url.AbsolutePath != "/")
        {
            diagnostics.Error(item, $"workers entries must be URLs such as http://localhost:5001, got {Show(item)}");
            return null;
        }

        if (!url.IsLoopback && !offThisMachine)
        {
            diagnostics.Error(item, $"worker URL {url} is not on this machine: Corral starts the workers here " +
                                    "(use localhost or 127.0.0.1, or run them on an engine with --engine external or docker)");
            return null;
        }

        if (url.IsDefaultPort || url.Port is < 1 or > 32767)
        {
            diagnostics.Error(item, $"worker URL {url} must name a port from 1 to 32767 (http://localhost:5001)");
            return null;
        }

        return url.Port;
    }

    private static CounterConfig ReadCorral(MappingReader reader, string baseDirectory)
    {
        var d = new CounterConfig();
        reader.Node("app");
        reader.Node(RestartCaps.Key);
        reader.OptionalLong("seed");
        var store = NonEmpty(reader, "store");
        var logs = NonEmpty(reader, "worker-logs");
        var config = d with
        {
            Workers = reader.OptionalInt("workers", 1, 256) ?? d.Workers,
            Partitions = reader.OptionalInt("partitions", 1, 1024) ?? d.Partitions,
            Durability = reader.OptionalDurability("durability", [Durability.Sync, Durability.Fsync, Durability.Periodic]) ?? Durability.Sync,
            PersistInterval = reader.OptionalDuration("persist", TimeSpan.FromMilliseconds(10)) ?? d.PersistInterval,
            StorePath = store is null ? null : Resolve(store, baseDirectory),
            WorkerLogs = logs is null ? null : Resolve(logs, baseDirectory),
            BatchLimit = reader.OptionalInt("batch-limit", 1, 100_000) ?? d.BatchLimit,
            ForwardTimeout = reader.OptionalDuration("forward-timeout", TimeSpan.FromMilliseconds(10)) ?? d.ForwardTimeout,
            RetryBudget = reader.OptionalDuration("retry-budget", TimeSpan.Zero) ?? d.RetryBudget,
        };

        if (reader.OptionalMapping("ports") is { } ports)
        {
            config = config with
            {
                CoordinatorPort = ports.OptionalInt("coordinator", 1, 32767) ?? d.CoordinatorPort,
                WorkerPort = ports.OptionalInt("worker", 1, 32767) ?? d.WorkerPort,
            };
            ports.RejectUnknownKeys();
        }

        reader.RejectUnknownKeys();
        return config;
    }

    /// <summary>An existing store keeps the partition count it was created with: another count is refused here, before anything starts.</summary>
    private static void CheckStore(CounterConfig config, MappingReader reader)
    {
        if (config.StorePath is not { } folder || reader.Diagnostics.HasErrors) return;
        int? recorded;
        try
        {
            recorded = StoreLayout.RecordedPartitions(folder);
        }
        catch (SqliteException e)
        {
            reader.Diagnostics.Error(reader.Mapping, $"the store at {folder} cannot be read: {e.Message}");
            return;
        }

        if (recorded is { } count && count != config.Partitions)
        {
            reader.Diagnostics.Error(reader.Mapping["partitions"] ?? reader.Mapping, StoreLayout.MismatchMessage(folder, count, config.Partitions));
        }
    }

    private static string? NonEmpty(MappingReader reader, string key)
    {
        var value = reader.OptionalString(key);
        if (value is not null && value.Trim().Length == 0)
        {
            reader.Diagnostics.Error(reader.Mapping[key]!, $"{key} must be a folder such as {(key == "database" ? "db/" : "counter-store/")}, not empty");
            return null;
        }

        return value;
    }

    private static string Resolve(string path, string baseDirectory) =>
        Path.TrimEndingDirectorySeparator(Path.IsPathRooted(path) ? path : Path.GetFullPath(Path.Combine(baseDirectory, path)));

    private static string Show(TopologyNode node) => node is TopologyScalar { IsNull: false } s ? $"'{s.Value}'" : node.Kind;
}
