namespace Corral.Shootout.Peer;

/// <summary>Wakes waiters when the agreed state changed (a watch event); a waiter takes <see cref="Next"/> before it reads, so no change is missed.</summary>
internal sealed class ChangeSignal
{
    private TaskCompletionSource _next = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Completes at the first change after this call.</summary>
    public Task Next => Volatile.Read(ref _next).Task;

    public void Set() => Interlocked.Exchange(ref _next, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();

    /// <summary>Waits for <paramref name="change"/> or <paramref name="max"/>, whichever is first (a lost watch never stalls a cowboy).</summary>
    public static async Task WaitAsync(Task change, TimeSpan max, TimeProvider time, CancellationToken ct)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var delay = Task.Delay(max, time, timeout.Token);
        await Task.WhenAny(change, delay);
        await timeout.CancelAsync();
        ct.ThrowIfCancellationRequested();
    }
}
