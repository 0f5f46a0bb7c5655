using System.Runtime.CompilerServices;
using Corral.Node.Feeds;
using Corral.Shootout.Game;

namespace Corral.Shootout.Server;

/// <summary>
/// Fans committed events out to server-sent-event subscribers through the kit's <see cref="Fanout{T}"/>: each has its
/// own bounded queue, and one that falls behind is dropped (its stream ends and the page reconnects for a fresh
/// state), so a slow reader never slows the game.
/// </summary>
internal sealed class EventFeed
{
    private const int QueueLength = 4096;
    private readonly Lock _lock = new();
    private readonly Fanout<GameEvent> _subscribers;

    public EventFeed() => _subscribers = new Fanout<GameEvent>(_lock, QueueLength);

    public int Subscribers
    {
        get
        {
            lock (_lock)
            {
                return _subscribers.Count;
            }
        }
    }

    public void Publish(IReadOnlyList<GameEvent> events)
    {
        lock (_lock)
        {
            if (_subscribers.Count == 0) return;
            foreach (var e in events) _subscribers.Publish(e);
        }
    }

    /// <summary>
    /// Every event published from the first <c>MoveNextAsync</c> on (the subscription is taken there, so a caller can
    /// subscribe, then read the state, and miss nothing). Ends with a <see cref="SubscriberTooSlowException"/> when this
    /// reader fell <see cref="QueueLength"/> events behind.
    /// </summary>
    public async IAsyncEnumerable<GameEvent> SubscribeAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        Subscription<GameEvent> subscription;
        lock (_lock)
        {
            subscription = _subscribers.Subscribe();
        }

        using (subscription)
        {
            await foreach (var e in subscription.Events.ReadAllAsync(cancellationToken))
            {
                yield return e;
            }
        }
    }
}
