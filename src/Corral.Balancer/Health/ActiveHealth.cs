namespace Corral.Balancer.Health;

/// <summary>
/// The active health state of one worker: down after <c>unhealthyAfter</c> consecutive failed checks, up again
/// after <c>healthyAfter</c> consecutive good ones. A member starts up: the supervisor only lists ready workers.
/// </summary>
internal sealed class ActiveHealth
{
    private readonly Lock _lock = new();
    private int _successes;
    private int _failures;
    private volatile bool _healthy = true;

    public bool IsHealthy => _healthy;

    /// <summary>Records one check; returns true when the state changed.</summary>
    public bool Observe(bool succeeded, int unhealthyAfter, int healthyAfter)
    {
        lock (_lock)
        {
            if (succeeded)
            {
                _failures = 0;
                _successes++;
                if (!_healthy && _successes >= healthyAfter)
                {
                    _healthy = true;
                    return true;
                }
            }
            else
            {
                _successes = 0;
                _failures++;
                if (_healthy && _failures >= unhealthyAfter)
                {
                    _healthy = false;
                    return true;
                }
            }

            return false;
        }
    }
}
