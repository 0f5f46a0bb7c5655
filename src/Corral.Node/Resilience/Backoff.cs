using Corral.Node.Randomness;

namespace Corral.Node.Resilience;

/// <summary>How a retry loop backs off: exponential from <see cref="Initial"/>, capped at <see cref="Max"/>, with seeded jitter, within an optional budget.</summary>
public sealed record BackoffOptions
{
    public TimeSpan Initial { get; init; } = TimeSpan.FromMilliseconds(100);

    public TimeSpan Max { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// The share of each step that is drawn at random: a step of <c>d</c> waits between <c>d × (1 − Jitter)</c> and
    /// <c>d</c>, so clients that failed together do not retry together. 0 is no jitter, 1 is "full jitter".
    /// </summary>
    public double Jitter { get; init; } = 0.5;

    /// <summary>How long trouble may last before the loop gives up (<see cref="Backoff.WaitAsync"/> answers false); null never gives up.</summary>
    public TimeSpan? Budget { get; init; }

    /// <summary>The options as they are, or the error naming the setting that is out of range.</summary>
    public string? Validate() =>
        Initial <= TimeSpan.Zero ? $"the initial back-off must be positive, got {Initial}"
        : Max < Initial ? $"the largest back-off ({Max}) must be at least the initial one ({Initial})"
        : Jitter is < 0 or > 1 || double.IsNaN(Jitter) ? $"jitter must be between 0 and 1, got {Jitter}"
        : Budget < TimeSpan.Zero ? $"the retry budget must not be negative, got {Budget}"
        : null;
}

/// <summary>
/// The back-off of every app's retry loop: each wait doubles up to a cap, shortened by a seeded draw (from the
/// loop's own <see cref="SeededRandom"/>, one draw per wait, so a seeded run waits the same), on an injected clock;
/// once trouble has lasted the budget, the loop is told to give up. Not thread-safe: one per loop.
/// </summary>
public sealed class Backoff
{
    private readonly BackoffOptions _options;
    private readonly TimeProvider _time;
    private readonly SeededRandom _random;
    private long _draws;
    private DateTimeOffset? _troubleSince;

    public Backoff(BackoffOptions options, TimeProvider time, SeededRandom random)
    {
        if (options.Validate() is { } error) throw new ArgumentException(error, nameof(options));
        _options = options;
        _time = time;
        _random = random;
    }

    /// <summary>Retries since the last success (or since the start).</summary>
    public int Attempt { get; private set; }

    /// <summary>
    /// The wait before retry <paramref name="attempt"/> (from 1) for a jitter draw <paramref name="unit"/> in [0, 1):
    /// <c>min(Max, Initial × 2^(attempt − 1)) × (1 − Jitter × unit)</c>.
    /// </summary>
    public static TimeSpan Delay(BackoffOptions options, int attempt, double unit)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(attempt, 1);
        var step = Math.Min(options.Initial.Ticks * Math.Pow(2, Math.Min(attempt - 1, 62)), options.Max.Ticks);
        return TimeSpan.FromTicks((long)(step * (1 - options.Jitter * unit)));
    }

    /// <summary>Counts a retry and returns how long to wait before it.</summary>
    public TimeSpan Next() => Delay(_options, ++Attempt, _random.UnitAt(_draws++));

    /// <summary>Waits before the next retry; false, at once, when trouble has lasted the budget.</summary>
    public async Task<bool> WaitAsync(CancellationToken cancellationToken)
    {
        var now = _time.GetUtcNow();
        _troubleSince ??= now;
        if (now - _troubleSince >= _options.Budget) return false;
        var delay = Next();
        if (delay > TimeSpan.Zero) await Task.Delay(delay, _time, cancellationToken);
        return true;
    }

    /// <summary>After a success: the next trouble starts from the first step, with the whole budget.</summary>
    public void Reset()
    {
        Attempt = 0;
        _troubleSince = null;
    }
}
