namespace Corral.Node.Randomness;

/// <summary>
/// The one seeded random source of every app. A value is derived from (seed, actor, sequence number) alone, never
/// from shared generator state, so the order in which concurrent requests arrive never changes a choice and a
/// seeded run replays exactly. SplitMix64 mixes the parts; names become parts through FNV-1a, which, unlike
/// <see cref="string.GetHashCode()"/>, is the same in every process.
/// </summary>
public sealed class SeededRandom
{
    private readonly long _seed;
    private readonly long _actor;
    private long _sequence;

    public SeededRandom(long seed, string actor)
    {
        ArgumentException.ThrowIfNullOrEmpty(actor);
        _seed = seed;
        _actor = Key(actor);
        Actor = actor;
    }

    public long Seed => _seed;

    public string Actor { get; }

    /// <summary>A uniform 64-bit value for (seed, actor, <paramref name="sequence"/>).</summary>
    public ulong At(long sequence) => Derive(_seed, _actor, sequence);

    /// <summary>A uniform 64-bit value for (seed, actor, <paramref name="sequence"/>, <paramref name="stream"/>): independent streams for one sequence number.</summary>
    public ulong At(long sequence, long stream) => Derive(_seed, _actor, sequence, stream);

    /// <summary>A uniform double in [0, 1) for (seed, actor, <paramref name="sequence"/>).</summary>
    public double UnitAt(long sequence) => Unit(At(sequence));

    /// <summary>A uniform double in [0, 1) for (seed, actor, <paramref name="sequence"/>, <paramref name="stream"/>).</summary>
    public double UnitAt(long sequence, long stream) => Unit(At(sequence, stream));

    /// <summary>A uniform integer in [0, <paramref name="n"/>) for (seed, actor, <paramref name="sequence"/>).</summary>
    public int BelowAt(long sequence, int n) => Below(At(sequence), n);

    /// <summary>
    /// A uniform integer in [0, <paramref name="max"/>) for this source's next sequence number (0 when there is one
    /// choice or none). For choices with no number of their own: they follow the order of the calls.
    /// </summary>
    public int NextInt(int max) => max <= 1 ? 0 : BelowAt(Interlocked.Increment(ref _sequence), max);

    /// <summary>A uniform 64-bit value for <paramref name="seed"/> and the <paramref name="parts"/> of a choice, in order.</summary>
    public static ulong Derive(long seed, params ReadOnlySpan<long> parts)
    {
        var h = Mix((ulong)seed);
        foreach (var part in parts)
        {
            h = Mix(h ^ (ulong)part);
        }

        return h;
    }

    /// <summary>A uniform integer in [0, <paramref name="n"/>) (Lemire's multiply-shift, unbiased enough for n ≪ 2^64).</summary>
    public static int Below(ulong value, int n)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(n, 1);
        return (int)(((UInt128)value * (ulong)n) >> 64);
    }

    /// <summary>A uniform double in [0, 1).</summary>
    public static double Unit(ulong value) => (value >> 11) * (1.0 / (1UL << 53));

    /// <summary>A stable 64-bit key for a name (FNV-1a).</summary>
    public static long Key(string text)
    {
        var h = 14695981039346656037UL;
        foreach (var c in text)
        {
            h = (h ^ c) * 1099511628211UL;
        }

        return (long)h;
    }

    /// <summary>SplitMix64: a bijective, well-mixed step.</summary>
    public static ulong Mix(ulong z)
    {
        z += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
