namespace Corral.Hosting.Supervision;

/// <summary>
/// Exponential back-off with seeded jitter, capped: attempt <c>n</c> waits <c>min(initial · 2^(n-1), max)</c>
/// shortened by up to <see cref="Jitter"/> of itself, so nodes that failed together do not retry in lock-step,
/// yet a wait never exceeds the cap and a run with the same seed waits the same.
/// </summary>
public sealed record Backoff(TimeSpan Initial, TimeSpan Max, double Jitter = 0.2)
{
    /// <summary>The wait before attempt <paramref name="attempt"/> (1-based) for one actor of a seeded run.</summary>
    public TimeSpan Delay(int attempt, long seed, string actor)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(attempt, 1);
        var full = Math.Min(Initial.Ticks * Math.Pow(2, Math.Min(attempt - 1, 40)), Max.Ticks);
        var unit = Unit(Hash(seed, actor, attempt));
        return TimeSpan.FromTicks((long)(full * (1 - Math.Clamp(Jitter, 0, 1) * unit)));
    }

    /// <summary>A stable hash of (seed, actor, attempt): the same inputs give the same jitter in every process.</summary>
    private static ulong Hash(long seed, string actor, int attempt)
    {
        var h = Mix((ulong)seed);
        foreach (var c in actor)
        {
            h = Mix(h ^ c);
        }

        return Mix(h ^ (ulong)attempt);
    }

    private static ulong Mix(ulong z)
    {
        // splitmix64's finaliser.
        z += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    private static double Unit(ulong hash) => (hash >> 11) * (1.0 / (1UL << 53));
}
