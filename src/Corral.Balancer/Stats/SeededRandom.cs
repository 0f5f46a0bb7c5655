namespace Corral.Balancer.Stats;

/// <summary>
/// Randomness derived from (seed, actor, sequence number) rather than from one shared generator, so the
/// choice for request n is the same whatever order concurrent requests arrive in.
/// </summary>
public sealed class SeededRandom(long seed, string actor)
{
    private readonly ulong _key = Mix((ulong)seed ^ Hash(actor));
    private long _sequence;

    /// <summary>A uniform 64-bit value for (seed, actor, <paramref name="sequence"/>).</summary>
    public ulong At(long sequence) => Mix(_key + (ulong)sequence * 0x9E3779B97F4A7C15UL);

    /// <summary>A uniform integer in [0, <paramref name="max"/>) for the next sequence number.</summary>
    public int NextInt(int max) => max <= 1 ? 0 : (int)(At(Interlocked.Increment(ref _sequence)) % (ulong)max);

    /// <summary>A uniform double in [0, 1) for (seed, actor, <paramref name="sequence"/>, <paramref name="stream"/>).</summary>
    public double UnitAt(long sequence, int stream = 0) => (Mix(At(sequence) + (ulong)stream) >> 11) * (1.0 / (1UL << 53));

    /// <summary>SplitMix64's finaliser: a bijective, well-mixed 64-bit hash.</summary>
    public static ulong Mix(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>FNV-1a, stable across processes (string.GetHashCode is randomised per process).</summary>
    public static ulong Hash(string text)
    {
        var hash = 14695981039346656037UL;
        foreach (var c in text)
        {
            hash = (hash ^ c) * 1099511628211UL;
        }

        return hash;
    }
}
