using System.Text.Json;

namespace Corral.WorkQueue.Controller;

/// <summary>
/// The results document as the <see cref="RunMonitor"/> last read it, serialised once. The reporter's open routes
/// (<c>/api/results</c>, <c>/api/events</c>) answer from it, so no number of readers costs the store a read: the store
/// is read by the monitor alone, at the pace it keeps. It also counts the live event streams, which are capped.
/// </summary>
internal sealed class ResultsSnapshot
{
    /// <summary>Live <c>/api/events</c> streams at most; one more is answered 503 with a Retry-After.</summary>
    public const int MaxSubscribers = 64;

    private Published? _current;
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _subscribers;

    /// <summary>The document's JSON, or null before the monitor's first look.</summary>
    public string? Json => Volatile.Read(ref _current)?.Json;

    /// <summary>Completes at the next <see cref="Publish"/>.</summary>
    public Task NextChange => Volatile.Read(ref _changed).Task;

    public void Publish(ResultsDocument document)
    {
        Volatile.Write(ref _current, new Published(JsonSerializer.Serialize(document, WorkQueueJson.Default.ResultsDocument)));
        Interlocked.Exchange(ref _changed, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
    }

    /// <summary>A place among the live streams, released on dispose; null when all <see cref="MaxSubscribers"/> are taken.</summary>
    public IDisposable? TrySubscribe()
    {
        if (Interlocked.Increment(ref _subscribers) > MaxSubscribers)
        {
            Interlocked.Decrement(ref _subscribers);
            return null;
        }

        return new Subscription(this);
    }

    private sealed record Published(string Json);

    private sealed class Subscription(ResultsSnapshot owner) : IDisposable
    {
        private int _disposed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0) Interlocked.Decrement(ref owner._subscribers);
        }
    }
}
