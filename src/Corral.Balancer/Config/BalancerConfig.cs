using System.Text.Json;
using System.Text.Json.Serialization;

namespace Corral.Balancer.Config;

/// <summary>How a balancer picks the next worker among the healthy ones.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<BalancingPolicyKind>))]
public enum BalancingPolicyKind
{
    RoundRobin,
    PowerOfTwo,
    LeastRequests,
}

/// <summary>The balancer app's whole config: what the topology file says, validated, with defaults filled in.</summary>
public sealed record BalancerConfig
{
    public int Workers { get; init; } = 3;
    public int Balancers { get; init; } = 1;

    /// <summary>Mean delay of a successful <c>/api/v1/hello</c>; each one draws uniformly from [avg/2, 3·avg/2].</summary>
    public TimeSpan AvgDelay { get; init; } = TimeSpan.FromMilliseconds(500);

    /// <summary>Percent (0–100) of hello requests that fail with 500.</summary>
    public double FailurePercent { get; init; } = 12;

    /// <summary>The SQLite stats file; null means <c>&lt;data dir&gt;/balancer.db</c>.</summary>
    public string? StatsPath { get; init; }

    public int BalancerPort { get; init; } = 5050;

    /// <summary>Each balancer's HTTP/2 cleartext (h2c, prior knowledge) listener: 5150 + i.</summary>
    public int BalancerH2cPort { get; init; } = 5150;
    public int WorkerPort { get; init; } = 6000;
    public int WorkerAdminPort { get; init; } = 6100;

    public BalancingPolicyKind Policy { get; init; } = BalancingPolicyKind.RoundRobin;
    public HealthCheckConfig HealthCheck { get; init; } = new();

    /// <summary>
    /// Panic routing: when fewer than this percent of the workers are healthy and not ejected, route to all of them
    /// rather than answer 503 (Envoy's and YARP's default is 50); 0 turns it off.
    /// </summary>
    public double PanicThresholdPercent { get; init; } = 50;
    public RetryConfig Retries { get; init; } = new();
    public PassiveHealthConfig Passive { get; init; } = new();
    public TimeoutConfig Timeouts { get; init; } = new();

    /// <summary>How often a worker writes its statistics row (and always on drain).</summary>
    public TimeSpan StatsFlushInterval { get; init; } = TimeSpan.FromSeconds(1);

    public JsonElement ToJson() => JsonSerializer.SerializeToElement(this, BalancerJson.Default.BalancerConfig);

    /// <summary>The config a node got from the supervisor; an absent config means defaults.</summary>
    public static BalancerConfig FromJson(JsonElement element) =>
        element.ValueKind == JsonValueKind.Object ? element.Deserialize(BalancerJson.Default.BalancerConfig) ?? new() : new();
}

/// <summary>Active health checks: a balancer asks every worker's service port on a period.</summary>
public sealed record HealthCheckConfig
{
    /// <summary>
    /// <c>/healthz</c> on the worker's service port: it answers from the same listener as the traffic, so an
    /// outage there fails it, yet it does not fail at random the way <c>/api/v1/hello</c> does.
    /// </summary>
    public string Path { get; init; } = "/healthz";

    public TimeSpan Interval { get; init; } = TimeSpan.FromSeconds(1);
    public TimeSpan Timeout { get; init; } = TimeSpan.FromMilliseconds(500);
    public int UnhealthyAfter { get; init; } = 2;
    public int HealthyAfter { get; init; } = 2;
}

/// <summary>Which failed attempts are tried again on another worker, and how many times.</summary>
public sealed record RetryConfig
{
    /// <summary>Extra attempts per request after the first (0 turns retries off).</summary>
    public int Attempts { get; init; } = 2;

    /// <summary>Whether a 5xx answer is retried too (connect failures and timeouts always are).</summary>
    public bool On5xx { get; init; }

    public IReadOnlyList<string> Methods { get; init; } = ["GET", "HEAD", "OPTIONS", "PUT", "DELETE"];

    /// <summary>
    /// Retries in flight may be at most this percent of the requests in flight (Envoy's retry budget), so a pool that is
    /// slow or failing (timeouts, 5xx) is not hit by a retry storm. A retry after a connection failure (refused, reset or
    /// closed before any byte of an answer) is not charged: the worker is gone rather than overloaded, and the retry goes
    /// to another one...
    /// </summary>
    public double BudgetPercent { get; init; } = 20;

    /// <summary>...but this many are always allowed.</summary>
    public int MinRetryConcurrency { get; init; } = 3;

    /// <summary>
    /// Request bodies up to this size (with a Content-Length) are buffered so that they can be replayed;
    /// a larger body is streamed and its request is not retried once any of it was sent.
    /// </summary>
    public long BufferBodyBytes { get; init; } = 64 * 1024;
}

/// <summary>Passive health (Envoy's outlier detection): failures seen on real traffic eject a worker for a while.</summary>
public sealed record PassiveHealthConfig
{
    public int ConsecutiveFailures { get; init; } = 5;

    /// <summary>Whether a 5xx answer counts as a failure (the workers' injected 500s would otherwise eject them).</summary>
    public bool Count5xx { get; init; }

    public TimeSpan BaseEjection { get; init; } = TimeSpan.FromSeconds(2);
    public TimeSpan MaxEjection { get; init; } = TimeSpan.FromSeconds(30);
}

/// <summary>Bounds on every proxied request.</summary>
public sealed record TimeoutConfig
{
    public TimeSpan Connect { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>One attempt's wait for a worker's response headers, from the end of the request body; past it the attempt fails and may be retried elsewhere.</summary>
    public TimeSpan Attempt { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>From the end of the request body to the upstream's response headers, over all attempts; past it the client gets 504.</summary>
    public TimeSpan Request { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// The longest silence allowed while the client's body is read or the worker's answer is copied, in either direction;
    /// a worker that stalls mid-answer ends the exchange and counts against it.
    /// </summary>
    public TimeSpan Activity { get; init; } = TimeSpan.FromSeconds(60);
}
