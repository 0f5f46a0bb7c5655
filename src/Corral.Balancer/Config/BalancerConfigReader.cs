using Corral.Node.Planning;
using Corral.Node.Topology;

namespace Corral.Balancer.Config;

/// <summary>
/// Reads the balancer's topology: Corral's own format (<c>app: balancer</c>, unknown keys rejected) or seed 002's
/// <c>config.yaml</c> unchanged (unknown keys ignored with a warning).
/// </summary>
internal static class BalancerConfigReader
{
    private static readonly string[] OriginalKeys = ["worker", "pool", "stats-dir", "avg-delay", "failure", "load-balancer-port", "worker-port"];
    private static readonly string[] KnownMethods = ["GET", "HEAD", "OPTIONS", "PUT", "DELETE", "POST", "PATCH", "TRACE"];

    /// <summary>002's file: no <c>app:</c>, and its distinctive keys (<c>worker</c> and <c>pool</c>, or <c>load-balancer-port</c>).</summary>
    public static bool IsOriginal(TopologyNode root) =>
        root is TopologyMapping mapping && !mapping.ContainsKey("app")
        && ((mapping.ContainsKey("worker") && mapping.ContainsKey("pool")) || mapping.ContainsKey("load-balancer-port"))
        && mapping.Keys.Count(OriginalKeys.Contains) >= 2;

    /// <summary>Reads the document; returns null when it is not a mapping (the error is recorded).</summary>
    public static (BalancerConfig Config, MappingReader? Reader) Read(TopologyDocument document, TopologyDiagnostics diagnostics)
    {
        var reader = MappingReader.From(document.Root, diagnostics, "");
        if (reader is null)
        {
            return (new BalancerConfig(), null);
        }

        var baseDirectory = Path.GetDirectoryName(Path.GetFullPath(document.Path)) ?? Directory.GetCurrentDirectory();
        return IsOriginal(document.Root) ? (ReadOriginal(reader, baseDirectory), reader) : (ReadCorral(reader, baseDirectory), reader);
    }

    private static BalancerConfig ReadOriginal(MappingReader reader, string baseDirectory)
    {
        var defaults = new BalancerConfig();
        var workerPort = reader.OptionalInt("worker-port", 1, 32767 - 200) ?? defaults.WorkerPort;
        var statsDir = reader.OptionalString("stats-dir");
        // 002 drew rand.Intn(100) <= failure, so 12 failed 13% of requests; Corral fails exactly 12%.
        var config = defaults with
        {
            Workers = reader.OptionalInt("worker", 1, 256) ?? defaults.Workers,
            Balancers = reader.OptionalInt("pool", 1, 64) ?? defaults.Balancers,
            StatsPath = statsDir is null ? null : Resolve(statsDir, baseDirectory),
            // The original's avg-delay is an integer of milliseconds in its own file.
            AvgDelay = TimeSpan.FromMilliseconds(reader.OptionalInt("avg-delay", 0, 3_600_000) ?? 500),
            FailurePercent = reader.OptionalInt("failure", 0, 100) ?? 12,
            BalancerPort = reader.OptionalInt("load-balancer-port", 1, 32767) ?? defaults.BalancerPort,
            // No h2c in 002: it sits 100 above the HTTP/1.1 port, as in Corral's own defaults.
            BalancerH2cPort = (reader.OptionalInt("load-balancer-port", 1, 32767 - 100) ?? defaults.BalancerPort) + 100,
            WorkerPort = workerPort,
            // The admin listener keeps DESIGN's spacing: 100 above the service port.
            WorkerAdminPort = workerPort + 100,
        };
        ReadSeed(reader);
        reader.WarnUnknownKeys();
        return config;
    }

    /// <summary>
    /// <c>seed:</c> (or <c>corral up --seed</c>) is the run's seed: the supervisor hands it to every node as
    /// <c>CORRAL_SEED</c>, and workers and balancers derive their random choices from it and their node id.
    /// </summary>
    private static void ReadSeed(MappingReader reader) => reader.OptionalLong("seed");

    private static BalancerConfig ReadCorral(MappingReader reader, string baseDirectory)
    {
        var d = new BalancerConfig();
        reader.Node("app");
        reader.Node(RestartCaps.Key);
        ReadSeed(reader);
        var stats = reader.OptionalString("stats");
        if (stats is not null && stats.Trim().Length == 0)
        {
            reader.Diagnostics.Error(reader.Mapping["stats"]!, "stats must be a file path such as balancer.db, not empty");
        }

        var config = d with
        {
            Workers = reader.OptionalInt("workers", 1, 256) ?? d.Workers,
            Balancers = reader.OptionalInt("balancers", 1, 64) ?? d.Balancers,
            AvgDelay = reader.OptionalDuration("avg-delay", TimeSpan.Zero) ?? d.AvgDelay,
            FailurePercent = reader.OptionalDouble("failure", 0, 100) ?? d.FailurePercent,
            PanicThresholdPercent = reader.OptionalDouble("panic-threshold", 0, 100) ?? d.PanicThresholdPercent,
            StatsPath = string.IsNullOrWhiteSpace(stats) ? null : Resolve(stats, baseDirectory),
            StatsFlushInterval = reader.OptionalDuration("stats-flush", TimeSpan.FromMilliseconds(10)) ?? d.StatsFlushInterval,
            Policy = reader.OptionalChoice("policy", "round-robin", "power-of-two", "least-requests") switch
            {
                "power-of-two" => BalancingPolicyKind.PowerOfTwo,
                "least-requests" => BalancingPolicyKind.LeastRequests,
                _ => BalancingPolicyKind.RoundRobin,
            },
        };

        if (reader.OptionalMapping("ports") is { } ports)
        {
            config = config with
            {
                BalancerPort = ports.OptionalInt("balancer", 1, 32767) ?? d.BalancerPort,
                BalancerH2cPort = ports.OptionalInt("balancer-h2c", 1, 32767) ?? d.BalancerH2cPort,
                WorkerPort = ports.OptionalInt("worker", 1, 32767) ?? d.WorkerPort,
                WorkerAdminPort = ports.OptionalInt("worker-admin", 1, 32767) ?? d.WorkerAdminPort,
            };
            ports.RejectUnknownKeys();
        }

        if (reader.OptionalMapping("health-check") is { } health)
        {
            var h = d.HealthCheck;
            var path = health.OptionalString("path");
            if (path is not null && !path.StartsWith('/'))
            {
                health.Diagnostics.Error(health.Mapping["path"]!, $"health-check.path must start with '/', got '{path}'");
            }

            config = config with
            {
                HealthCheck = new HealthCheckConfig
                {
                    Path = path is not null && path.StartsWith('/') ? path : h.Path,
                    Interval = health.OptionalDuration("interval", TimeSpan.FromMilliseconds(10)) ?? h.Interval,
                    Timeout = health.OptionalDuration("timeout", TimeSpan.FromMilliseconds(1)) ?? h.Timeout,
                    UnhealthyAfter = health.OptionalInt("unhealthy-after", 1, 100) ?? h.UnhealthyAfter,
                    HealthyAfter = health.OptionalInt("healthy-after", 1, 100) ?? h.HealthyAfter,
                },
            };
            health.RejectUnknownKeys();
        }

        if (reader.OptionalMapping("retries") is { } retries)
        {
            var r = d.Retries;
            var methods = r.Methods;
            if (retries.OptionalSequence("methods") is { } list)
            {
                var read = new List<string>();
                foreach (var item in list.Items)
                {
                    if (item is TopologyScalar { IsNull: false } s && KnownMethods.Contains(s.Value.ToUpperInvariant()))
                    {
                        read.Add(s.Value.ToUpperInvariant());
                    }
                    else
                    {
                        retries.Diagnostics.Error(item, $"retries.methods entries must be HTTP methods ({string.Join(", ", KnownMethods)}), got {Show(item)}");
                    }
                }

                methods = read;
            }

            config = config with
            {
                Retries = new RetryConfig
                {
                    Attempts = retries.OptionalInt("attempts", 0, 10) ?? retries.OptionalInt("budget", 0, 10) ?? r.Attempts,
                    On5xx = retries.OptionalBool("on-5xx") ?? r.On5xx,
                    Methods = methods,
                    BufferBodyBytes = retries.OptionalInt("buffer-body", 0, 16 * 1024 * 1024) ?? r.BufferBodyBytes,
                    BudgetPercent = retries.OptionalDouble("budget-percent", 0, 100) ?? r.BudgetPercent,
                    MinRetryConcurrency = retries.OptionalInt("min-retry-concurrency", 0, 10_000) ?? r.MinRetryConcurrency,
                },
            };
            retries.RejectUnknownKeys();
        }

        if (reader.OptionalMapping("passive") is { } passive)
        {
            var p = d.Passive;
            var passiveConfig = new PassiveHealthConfig
            {
                ConsecutiveFailures = passive.OptionalInt("consecutive-failures", 1, 1000) ?? p.ConsecutiveFailures,
                Count5xx = passive.OptionalBool("5xx-counts") ?? p.Count5xx,
                BaseEjection = passive.OptionalDuration("base-ejection", TimeSpan.FromMilliseconds(1)) ?? p.BaseEjection,
                MaxEjection = passive.OptionalDuration("max-ejection", TimeSpan.FromMilliseconds(1)) ?? p.MaxEjection,
            };
            if (passiveConfig.MaxEjection < passiveConfig.BaseEjection)
            {
                passive.Diagnostics.Error(passive.Mapping, "passive.max-ejection must be at least passive.base-ejection");
            }

            config = config with { Passive = passiveConfig };
            passive.RejectUnknownKeys();
        }

        if (reader.OptionalMapping("timeouts") is { } timeouts)
        {
            var t = d.Timeouts;
            config = config with
            {
                Timeouts = new TimeoutConfig
                {
                    Connect = timeouts.OptionalDuration("connect", TimeSpan.FromMilliseconds(1)) ?? t.Connect,
                    Attempt = timeouts.OptionalDuration("attempt", TimeSpan.FromMilliseconds(1)) ?? t.Attempt,
                    Request = timeouts.OptionalDuration("request", TimeSpan.FromMilliseconds(1)) ?? t.Request,
                    Activity = timeouts.OptionalDuration("activity", TimeSpan.FromMilliseconds(1)) ?? t.Activity,
                },
            };
            timeouts.RejectUnknownKeys();
        }

        reader.RejectUnknownKeys();
        return config;
    }

    private static string Resolve(string path, string baseDirectory) =>
        Path.IsPathRooted(path) ? path : Path.GetFullPath(Path.Combine(baseDirectory, path));

    private static string Show(TopologyNode node) => node is TopologyScalar { IsNull: false } s ? $"'{s.Value}'" : node.Kind;
}
