using Corral.Node.Metrics;

namespace Corral.Balancer.Worker;

/// <summary>One worker's counters as stored and shown.</summary>
internal sealed record WorkerStatsRow
{
    public required string WorkerId { get; init; }
    public long Successful { get; init; }
    public long Failed { get; init; }
    public long Total => Successful + Failed;
    public long LatencySumMicros { get; init; }
    public double MeanMs { get; init; }
    public double P50Ms { get; init; }
    public double P99Ms { get; init; }
    public DateTimeOffset UpdatedAt { get; init; }
    internal byte[] Histogram { get; init; } = [];
}

/// <summary>
/// A worker's live statistics. Every request is recorded under one lock (counts and latency together), so
/// totals are exact under any concurrency, unlike 002's read-increment-save that lost updates.
/// </summary>
internal sealed class WorkerStats
{
    private readonly Lock _lock = new();
    private readonly string _workerId;
    private LatencyHistogram _latency = new();
    private long _successful;
    private long _failed;
    private long _version;

    public WorkerStats(string workerId, WorkerStatsRow? restored = null)
    {
        _workerId = workerId;
        if (restored is not null)
        {
            _successful = restored.Successful;
            _failed = restored.Failed;
            _latency = LatencyHistogram.FromBytes(restored.Histogram, restored.LatencySumMicros);
        }
    }

    /// <summary>Grows on every recorded request, so a flusher can skip writing when nothing changed.</summary>
    public long Version => Volatile.Read(ref _version);

    public void Record(bool succeeded, long latencyMicros)
    {
        lock (_lock)
        {
            if (succeeded) _successful++;
            else _failed++;
            _latency.Record(latencyMicros);
            _version++;
        }
    }

    public (WorkerStatsRow Row, long Version) Snapshot(DateTimeOffset now)
    {
        lock (_lock)
        {
            return (new WorkerStatsRow
            {
                WorkerId = _workerId,
                Successful = _successful,
                Failed = _failed,
                LatencySumMicros = _latency.SumMicros,
                MeanMs = _latency.MeanMs,
                P50Ms = _latency.PercentileMs(0.50),
                P99Ms = _latency.PercentileMs(0.99),
                UpdatedAt = now,
                Histogram = _latency.ToBytes(),
            }, _version);
        }
    }
}
