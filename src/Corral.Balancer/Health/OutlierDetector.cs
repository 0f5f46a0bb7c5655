using Corral.Balancer.Config;

namespace Corral.Balancer.Health;

/// <summary>
/// Passive health of one worker, after Envoy's outlier detection: consecutive failures on real traffic eject it for
/// <c>base × multiplier</c> (capped at the maximum); each ejection raises the multiplier by one, and every base period
/// spent un-ejected lowers it by one again, so a worker that keeps failing stays out longer and longer.
/// </summary>
internal sealed class OutlierDetector
{
    private readonly Lock _lock = new();
    private int _consecutiveFailures;
    private int _multiplier;
    private DateTimeOffset _ejectedUntil = DateTimeOffset.MinValue;
    private long _ejections;

    public long Ejections => Interlocked.Read(ref _ejections);
    public int Multiplier { get { lock (_lock) return _multiplier; } }

    public DateTimeOffset EjectedUntil { get { lock (_lock) return _ejectedUntil; } }

    public bool IsEjected(DateTimeOffset now)
    {
        lock (_lock) return now < _ejectedUntil;
    }

    public void RecordSuccess()
    {
        lock (_lock) _consecutiveFailures = 0;
    }

    /// <summary>
    /// Records a failure; <paramref name="immediate"/> (a refused connection) ejects at once. Returns the ejection's
    /// length when this failure ejected the worker, or null.
    /// </summary>
    public TimeSpan? RecordFailure(DateTimeOffset now, PassiveHealthConfig config, bool immediate = false)
    {
        lock (_lock)
        {
            // Requests already in flight when the worker was ejected do not extend or repeat the ejection.
            if (now < _ejectedUntil) return null;
            _consecutiveFailures++;
            if (!immediate && _consecutiveFailures < config.ConsecutiveFailures) return null;

            if (_ejectedUntil != DateTimeOffset.MinValue && config.BaseEjection > TimeSpan.Zero)
            {
                var periodsHealthy = (int)Math.Min(int.MaxValue, (now - _ejectedUntil).Ticks / config.BaseEjection.Ticks);
                _multiplier = Math.Max(0, _multiplier - periodsHealthy);
            }

            _multiplier++;
            var length = TimeSpan.FromTicks(Math.Min(config.BaseEjection.Ticks * _multiplier, config.MaxEjection.Ticks));
            _ejectedUntil = now + length;
            _consecutiveFailures = 0;
            Interlocked.Increment(ref _ejections);
            return length;
        }
    }
}
