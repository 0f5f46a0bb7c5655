namespace Corral.Supervisor.Supervision;

/// <summary>
/// Bounds how many nodes are starting at once. A .NET node spends most of a CPU-second in JIT before it is
/// ready; a hundred started together on two cores all miss their readiness deadline and thrash through
/// restarts. A node holds a slot from just before its process starts until it is ready, fails or exits.
/// </summary>
internal sealed class StartWindow(int size)
{
    private readonly SemaphoreSlim _slots = new(size, size);

    public int Size => size;

    public async Task<Slot> EnterAsync()
    {
        await _slots.WaitAsync();
        return new Slot(_slots);
    }

    /// <summary>One node's place in the window; releasing twice is harmless.</summary>
    public sealed class Slot(SemaphoreSlim slots)
    {
        private int _released;

        public void Release()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0)
            {
                slots.Release();
            }
        }
    }
}
