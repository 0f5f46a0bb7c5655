namespace Corral.Supervisor.Supervision;

/// <summary>
/// How often one node may restart: at most N restarts within any <see cref="Window"/> (N from the role's cap,
/// which the topology's <c>restarts:</c> sets), and the back-off step grows with each restart until the node
/// has stayed ready for <see cref="StableAfter"/>, after which the next failure starts from the first step again.
/// </summary>
internal sealed class RestartBudget(TimeProvider time)
{
    public static readonly TimeSpan Window = TimeSpan.FromSeconds(60);
    public static readonly TimeSpan StableAfter = TimeSpan.FromSeconds(30);

    private readonly Queue<DateTimeOffset> _recent = new();
    private DateTimeOffset? _readySince;

    /// <summary>Restarts over the node's whole life, as the control API shows them.</summary>
    public int Total { get; private set; }

    /// <summary>The back-off step of the last restart (1 for the first after a stable stretch).</summary>
    public int Step { get; private set; }

    /// <summary>The node became ready: a stretch of readiness starts (if one is not already running).</summary>
    public void Ready() => _readySince ??= time.GetUtcNow();

    /// <summary>The node stopped being ready (unhealthy or gone): a stretch of <see cref="StableAfter"/> or more resets the back-off.</summary>
    public void NotReady()
    {
        if (_readySince is { } since && time.GetUtcNow() - since >= StableAfter)
        {
            Step = 0;
        }

        _readySince = null;
    }

    /// <summary>Takes one restart if fewer than <paramref name="max"/> were taken in the last <see cref="Window"/>; returns how many that makes, or null.</summary>
    public int? TryTake(int max)
    {
        NotReady();
        var now = time.GetUtcNow();
        while (_recent.TryPeek(out var oldest) && now - oldest >= Window)
        {
            _recent.Dequeue();
        }

        if (_recent.Count >= max)
        {
            return null;
        }

        _recent.Enqueue(now);
        Step++;
        Total++;
        return _recent.Count;
    }
}
