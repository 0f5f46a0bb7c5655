namespace Corral.Balancer.Proxy;

/// <summary>
/// Envoy's retry budget: retries in flight may be at most a percentage of the requests in flight (but always a few),
/// so when every worker struggles the balancer does not multiply the load with retries.
/// </summary>
internal sealed class RetryBudget
{
    private int _inFlight;
    private long _refused;

    public int InFlight => Volatile.Read(ref _inFlight);

    /// <summary>Retries the budget refused since the balancer started.</summary>
    public long Refused => Interlocked.Read(ref _refused);

    public bool TryAcquire(int activeRequests, double percent, int minConcurrency)
    {
        var limit = Math.Max(minConcurrency, (int)(activeRequests * percent / 100.0));
        while (true)
        {
            var current = Volatile.Read(ref _inFlight);
            if (current >= limit)
            {
                Interlocked.Increment(ref _refused);
                return false;
            }

            if (Interlocked.CompareExchange(ref _inFlight, current + 1, current) == current) return true;
        }
    }

    public void Release(int count)
    {
        if (count > 0) Interlocked.Add(ref _inFlight, -count);
    }
}
