using System.Threading.Channels;

namespace Corral.Node.Feeds;

/// <summary>A subscription to a feed: the state at the moment of subscribing, then every later event in order.</summary>
public sealed class Subscription<T>(T first, ChannelReader<T> events, Action unsubscribe) : IDisposable
{
    public T First { get; } = first;

    /// <summary>
    /// Later events. It completes when the feed ends (the run is over) or, with a <see cref="SubscriberTooSlowException"/>,
    /// when this subscriber fell behind: it must subscribe again and start from a fresh snapshot.
    /// </summary>
    public ChannelReader<T> Events { get; } = events;

    public void Dispose() => unsubscribe();
}

/// <summary>A feed's subscriber did not keep up with its events and was dropped; it resubscribes for a fresh snapshot.</summary>
public sealed class SubscriberTooSlowException(int capacity)
    : Exception($"the subscriber fell more than {capacity} events behind and was dropped; subscribe again for a fresh snapshot");

/// <summary>
/// The subscribers of one feed, each with a bounded queue: a subscriber that falls behind is dropped rather than
/// letting its backlog grow without limit (every event carries the full snapshot, so a fresh subscription loses
/// nothing). Not thread-safe on its own: its owner calls it under <paramref name="ownerLock"/>, the lock that guards
/// the state it publishes, so a subscriber's first item and later events never overlap or miss.
/// </summary>
public sealed class Fanout<T>(Lock ownerLock, int capacity = Fanout<T>.DefaultCapacity)
{
    public const int DefaultCapacity = 256;
    private readonly List<Channel<T>> _subscribers = [];
    private bool _completed;

    public int Count => _subscribers.Count;

    /// <summary>Call under the owner's lock, with the state as it is now.</summary>
    public Subscription<T> Subscribe(T first)
    {
        var channel = Channel.CreateBounded<T>(new BoundedChannelOptions(capacity)
        {
            SingleReader = true,
            FullMode = BoundedChannelFullMode.Wait,
        });
        if (_completed)
        {
            channel.Writer.TryComplete();
        }
        else
        {
            _subscribers.Add(channel);
        }

        return new Subscription<T>(first, channel.Reader, () =>
        {
            lock (ownerLock)
            {
                _subscribers.Remove(channel);
            }
        });
    }

    /// <summary>
    /// Call under the owner's lock, for a feed whose subscribers read the state elsewhere (they subscribe first, then
    /// read it, and may see an event twice): the subscription's <see cref="Subscription{T}.First"/> is the default.
    /// </summary>
    public Subscription<T> Subscribe() => Subscribe(default!);

    /// <summary>Call under the owner's lock. A subscriber whose queue is full is completed with an error and dropped.</summary>
    public void Publish(T item)
    {
        for (var i = _subscribers.Count - 1; i >= 0; i--)
        {
            var subscriber = _subscribers[i];
            if (!subscriber.Writer.TryWrite(item))
            {
                subscriber.Writer.TryComplete(new SubscriberTooSlowException(capacity));
                _subscribers.RemoveAt(i);
            }
        }
    }

    /// <summary>Ends every subscription (the run is over), so streaming responses finish. Call under the owner's lock.</summary>
    public void Complete()
    {
        _completed = true;
        foreach (var subscriber in _subscribers)
        {
            subscriber.Writer.TryComplete();
        }

        _subscribers.Clear();
    }
}
