using System.Diagnostics;
using Corral.Node.Metrics;

namespace Corral.Shootout.Server;

/// <summary>
/// What <c>GET /stats</c> answers: acknowledged shots and the server's own latency for them since it started.
/// <see cref="Histogram"/> (sparse buckets, base64) and <see cref="SumMicros"/> let a reader take two snapshots
/// and compute the percentiles of the window between them.
/// </summary>
internal sealed record ServerStats(long Shots, double MeanMs, double P50Ms, double P99Ms, long Batches, double MeanBatch,
    string Histogram, long SumMicros);

/// <summary>
/// The server's own view of a shot's latency: from the moment its handler runs to the durable answer
/// (body parsing, the queue, the group commit), so the benchmark can read a server p99 without guessing
/// at the network from outside.
/// </summary>
internal sealed class ShotLatency
{
    private readonly Lock _lock = new();
    private readonly LatencyHistogram _histogram = new();

    public void Record(long startTimestamp)
    {
        var micros = (long)Stopwatch.GetElapsedTime(startTimestamp).TotalMicroseconds;
        lock (_lock)
        {
            _histogram.Record(micros);
        }
    }

    public ServerStats Snapshot(GameEngine engine)
    {
        lock (_lock)
        {
            return new ServerStats(_histogram.Count, _histogram.MeanMs, _histogram.PercentileMs(0.50), _histogram.PercentileMs(0.99),
                engine.Batches, engine.Batches == 0 ? 0 : engine.Requests / (double)engine.Batches,
                Convert.ToBase64String(_histogram.ToBytes()), _histogram.SumMicros);
        }
    }
}
