using Corral.Node.Metrics;

namespace Corral.Shootout.Peer;

/// <summary>A cowboy's own counters: committed shots, transactions lost to a conflict, and the latency of each committed shot.</summary>
internal sealed class PeerStats
{
    private readonly LatencyHistogram _latency = new();
    private readonly Lock _lock = new();
    private long _shots;
    private long _conflicts;

    public void Hit(TimeSpan latency)
    {
        lock (_lock)
        {
            _shots++;
            _latency.Record((long)latency.TotalMicroseconds);
        }
    }

    public void Conflict()
    {
        lock (_lock) _conflicts++;
    }

    public PeerStatsView View()
    {
        lock (_lock)
        {
            return new PeerStatsView(_shots, _conflicts, _latency.PercentileMs(0.5), _latency.PercentileMs(0.99), _latency.ToBytes(), _latency.SumMicros);
        }
    }
}

/// <summary>What <c>GET /peer/stats</c> answers; <see cref="Histogram"/> lets a benchmark merge cowboys' latencies exactly.</summary>
internal sealed record PeerStatsView(long Shots, long Conflicts, double P50Ms, double P99Ms, byte[] Histogram, long SumMicros);
