namespace Corral.Shootout.Cowboy;

/// <summary>Exponential back-off with a budget: each wait doubles up to a cap; once the budget is spent, give up.</summary>
public sealed class Backoff(TimeProvider time, TimeSpan initial, TimeSpan max, TimeSpan budget)
{
    private TimeSpan _next = TimeSpan.Zero;
    private DateTimeOffset? _since;

    /// <summary>Waits before the next attempt; false when the budget is spent.</summary>
    public async Task<bool> WaitAsync(CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        _since ??= now;
        if (now - _since >= budget) return false;
        if (_next == TimeSpan.Zero) _next = initial;
        await Task.Delay(_next, time, cancellationToken);
        _next = TimeSpan.FromTicks(Math.Min(_next.Ticks * 2, max.Ticks));
        return true;
    }

    public void Reset()
    {
        _next = TimeSpan.Zero;
        _since = null;
    }
}
