using Corral.Node.Randomness;

namespace Corral.Balancer.Worker;

/// <summary>
/// Decides which hello requests fail. Requests are numbered from 1 and grouped in blocks of 1,000; within each
/// block a seeded shuffle ranks the positions, and a request fails when its rank is below failure% × 1,000.
/// So exactly <c>failure</c> percent of every block fails (to 0.1%), at seeded, unpredictable positions; 002 drew
/// <c>rand.Intn(100) &lt;= failure</c> and failed one percent too many.
/// </summary>
internal sealed class FailureSchedule(SeededRandom random)
{
    public const int BlockSize = 1000;
    private readonly Lock _lock = new();
    private long _block = -1;
    private readonly short[] _ranks = new short[BlockSize];

    public bool Fails(long requestNumber, double failurePercent)
    {
        var threshold = (int)Math.Round(failurePercent * BlockSize / 100.0);
        if (threshold <= 0) return false;
        if (threshold >= BlockSize) return true;
        var index = requestNumber - 1;
        var block = index / BlockSize;
        lock (_lock)
        {
            if (block != _block) Shuffle(block);
            return _ranks[index % BlockSize] < threshold;
        }
    }

    private void Shuffle(long block)
    {
        for (short i = 0; i < BlockSize; i++) _ranks[i] = i;
        for (var i = BlockSize - 1; i > 0; i--)
        {
            var j = random.BelowAt(block * BlockSize + i, i + 1);
            (_ranks[i], _ranks[j]) = (_ranks[j], _ranks[i]);
        }

        _block = block;
    }
}
