using Corral.Node.Metrics;
using Corral.Balancer.Health;

namespace Corral.Balancer.Proxy;

/// <summary>A worker as one balancer sees it: address, health (active and passive), load and counters.</summary>
internal sealed class Backend(string id, Uri baseUri)
{
    private readonly Lock _lock = new();
    private readonly LatencyHistogram _latency = new();
    private int _inFlight;
    private long _requests;
    private long _failures;
    private long _retries;

    public string Id { get; } = id;

    /// <summary>The worker's service address, without a trailing slash (<c>http://127.0.0.1:6000</c>).</summary>
    public string BaseUrl { get; } = baseUri.GetLeftPart(UriPartial.Authority);

    public ActiveHealth Active { get; } = new();
    public OutlierDetector Outlier { get; } = new();

    public int InFlight => Volatile.Read(ref _inFlight);

    public bool IsAvailable(DateTimeOffset now) => Active.IsHealthy && !Outlier.IsEjected(now);

    public void Started(bool isRetry)
    {
        Interlocked.Increment(ref _inFlight);
        Interlocked.Increment(ref _requests);
        if (isRetry) Interlocked.Increment(ref _retries);
    }

    public void Finished(bool failed, TimeSpan latency)
    {
        // Counted before the slot is freed, so whoever sees the slot free also sees the attempt's outcome.
        if (failed) Interlocked.Increment(ref _failures);
        lock (_lock) _latency.Record(latency.Ticks / 10);
        Interlocked.Decrement(ref _inFlight);
    }

    /// <summary>An attempt that ended without a verdict on the worker (the client left): load drops, nothing is counted.</summary>
    public void Abandoned() => Interlocked.Decrement(ref _inFlight);

    public BackendStats Snapshot(DateTimeOffset now)
    {
        double mean, p50, p99;
        lock (_lock)
        {
            mean = _latency.MeanMs;
            p50 = _latency.PercentileMs(0.5);
            p99 = _latency.PercentileMs(0.99);
        }

        var ejected = Outlier.IsEjected(now);
        return new BackendStats
        {
            WorkerId = Id,
            Url = BaseUrl,
            Health = !Active.IsHealthy ? "down" : ejected ? "ejected" : "up",
            EjectedUntil = ejected ? Outlier.EjectedUntil : null,
            InFlight = InFlight,
            Requests = Interlocked.Read(ref _requests),
            Failures = Interlocked.Read(ref _failures),
            Retries = Interlocked.Read(ref _retries),
            Ejections = Outlier.Ejections,
            MeanMs = mean,
            P50Ms = p50,
            P99Ms = p99,
        };
    }
}

/// <summary>One worker's line in <c>GET /lb/stats</c>.</summary>
internal sealed record BackendStats
{
    public required string WorkerId { get; init; }
    public required string Url { get; init; }

    /// <summary><c>up</c>, <c>down</c> (active checks failing) or <c>ejected</c> (passive health).</summary>
    public required string Health { get; init; }

    public DateTimeOffset? EjectedUntil { get; init; }
    public int InFlight { get; init; }

    /// <summary>Attempts sent to this worker, retries included.</summary>
    public long Requests { get; init; }

    /// <summary>Attempts that failed: connection errors, timeouts, broken responses, and 5xx when they count.</summary>
    public long Failures { get; init; }

    /// <summary>Attempts sent to this worker as a retry of a request another worker failed.</summary>
    public long Retries { get; init; }

    public long Ejections { get; init; }
    public double MeanMs { get; init; }
    public double P50Ms { get; init; }
    public double P99Ms { get; init; }
}
