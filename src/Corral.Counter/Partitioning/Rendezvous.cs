namespace Corral.Counter.Partitioning;

/// <summary>
/// Partition → owner by rendezvous (highest random weight) hashing over the live workers' node ids: every process
/// with the same member list picks the same owner, and a worker joining or leaving moves only the partitions it
/// wins or held. Node ids are stable across restarts, so a restarted worker gets its own partitions back.
/// </summary>
public static class Rendezvous
{
    /// <summary>The index in <paramref name="workers"/> of the partition's owner, or -1 when there is no worker.</summary>
    public static int Owner(int partition, IReadOnlyList<string> workers)
    {
        var best = -1;
        var bestScore = 0UL;
        for (var i = 0; i < workers.Count; i++)
        {
            var score = Score(workers[i], partition);
            // Ties (vanishingly rare) go to the smaller id, so every process agrees.
            if (best < 0 || score > bestScore || (score == bestScore && string.CompareOrdinal(workers[i], workers[best]) < 0))
            {
                best = i;
                bestScore = score;
            }
        }

        return best;
    }

    public static ulong Score(string worker, int partition) => Mix(Partitioner.Fnv1a(worker) ^ ((ulong)(partition + 1) * 0x9E3779B97F4A7C15UL));

    /// <summary>SplitMix64's finaliser: spreads nearby inputs over the whole range.</summary>
    private static ulong Mix(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
