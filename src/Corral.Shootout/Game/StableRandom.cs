namespace Corral.Shootout.Game;

/// <summary>
/// Random choices derived from their inputs alone (SplitMix64 mixing), never from shared generator
/// state: the target of a shot depends on (seed, round, shooter, shot number) and not on which request
/// arrived first, so a seeded game replays exactly.
/// </summary>
public static class StableRandom
{
    public static ulong Mix(ulong z)
    {
        z += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    public static ulong Hash(long seed, params ReadOnlySpan<long> parts)
    {
        var h = Mix((ulong)seed);
        foreach (var part in parts)
        {
            h = Mix(h ^ (ulong)part);
        }

        return h;
    }

    /// <summary>A uniform integer in [0, n) (Lemire's multiply-shift, unbiased enough for n ≪ 2^64).</summary>
    public static int Below(ulong hash, int n)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(n, 1);
        return (int)(((UInt128)hash * (ulong)n) >> 64);
    }

    /// <summary>A uniform double in [0, 1).</summary>
    public static double Unit(ulong hash) => (hash >> 11) * (1.0 / (1UL << 53));

    /// <summary>A stable 64-bit key for a string (FNV-1a), unlike <see cref="string.GetHashCode()"/> which changes per process.</summary>
    public static long Key(string text)
    {
        var h = 14695981039346656037UL;
        foreach (var c in text)
        {
            h = (h ^ c) * 1099511628211UL;
        }

        return (long)h;
    }
}
