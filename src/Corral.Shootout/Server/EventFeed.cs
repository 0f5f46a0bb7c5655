using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using System.Threading.Channels;
using Corral.Shootout.Game;

namespace Corral.Shootout.Server;

/// <summary>
/// Fans committed events out to server-sent-event subscribers. Each subscriber has its own bounded
/// queue that drops its oldest events when it falls behind, so a slow reader never slows the game.
/// </summary>
internal sealed class EventFeed
{
    private const int QueueLength = 4096;
    private readonly ConcurrentDictionary<long, Channel<GameEvent>> _subscribers = new();
    private long _next;

    public int Subscribers => _subscribers.Count;

    public void Publish(IReadOnlyList<GameEvent> events)
    {
        foreach (var subscriber in _subscribers.Values)
        {
            foreach (var e in events) subscriber.Writer.TryWrite(e);
        }
    }

    public async IAsyncEnumerable<GameEvent> SubscribeAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var id = Interlocked.Increment(ref _next);
        var channel = Channel.CreateBounded<GameEvent>(new BoundedChannelOptions(QueueLength)
        {
            FullMode = BoundedChannelFullMode.DropOldest,
            SingleReader = true,
        });
        _subscribers[id] = channel;
        try
        {
            await foreach (var e in channel.Reader.ReadAllAsync(cancellationToken))
            {
                yield return e;
            }
        }
        finally
        {
            _subscribers.TryRemove(id, out _);
        }
    }
}
