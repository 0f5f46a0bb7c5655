using System.Text.Json;
using System.Threading.Channels;
using Corral.Hosting.Control;

namespace Corral.Hosting.Supervision;

/// <summary>A subscription to a feed: the state at the moment of subscribing, then every later event in order.</summary>
internal sealed class Subscription<T>(T first, ChannelReader<T> events, Action unsubscribe) : IDisposable
{
    public T First { get; } = first;
    public ChannelReader<T> Events { get; } = events;
    public void Dispose() => unsubscribe();
}

/// <summary>
/// The subscribers of one feed. Not thread-safe on its own: its owner calls it under <paramref name="ownerLock"/>,
/// the lock that guards the state it publishes, so a subscriber's first item and later events never overlap or miss.
/// </summary>
internal sealed class Fanout<T>(Lock ownerLock)
{
    private readonly List<Channel<T>> _subscribers = [];
    private bool _completed;

    /// <summary>Call under the owner's lock, with the state as it is now.</summary>
    public Subscription<T> Subscribe(T first)
    {
        var channel = Channel.CreateUnbounded<T>(new UnboundedChannelOptions { SingleReader = true });
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

    /// <summary>Call under the owner's lock.</summary>
    public void Publish(T item)
    {
        foreach (var subscriber in _subscribers)
        {
            subscriber.Writer.TryWrite(item);
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

/// <summary>
/// The live members (ready and not draining) and the feed of their changes. Each change bumps the version
/// and is published under the same lock that takes a subscriber's first snapshot, so no event is missed
/// or seen twice.
/// </summary>
internal sealed class MembershipBoard
{
    private readonly Lock _lock = new();
    private readonly SortedDictionary<string, Member> _members = new(StringComparer.Ordinal);
    private readonly Fanout<MembershipEvent> _subscribers;
    private long _version;

    public MembershipBoard() => _subscribers = new Fanout<MembershipEvent>(_lock);

    public MembershipSnapshot Snapshot()
    {
        lock (_lock)
        {
            return SnapshotLocked();
        }
    }

    public void Join(Member member)
    {
        lock (_lock)
        {
            if (_members.TryGetValue(member.NodeId, out var existing) && existing.Urls.SequenceEqual(member.Urls))
            {
                return;
            }

            _members[member.NodeId] = member;
            PublishLocked(MembershipChange.Joined, member);
        }
    }

    public void Leave(string nodeId)
    {
        lock (_lock)
        {
            if (_members.Remove(nodeId, out var member))
            {
                PublishLocked(MembershipChange.Left, member);
            }
        }
    }

    public Subscription<MembershipEvent> Subscribe()
    {
        lock (_lock)
        {
            return _subscribers.Subscribe(new MembershipEvent(MembershipChange.Snapshot, null, SnapshotLocked()));
        }
    }

    /// <summary>Ends every feed (the run is over), so streaming responses finish.</summary>
    public void Complete()
    {
        lock (_lock)
        {
            _subscribers.Complete();
        }
    }

    private MembershipSnapshot SnapshotLocked() => new(_version, _members.Values.ToArray());

    private void PublishLocked(MembershipChange change, Member member)
    {
        _version++;
        _subscribers.Publish(new MembershipEvent(change, member, SnapshotLocked()));
    }
}

/// <summary>The app's config as served to nodes, and the feed of reloaded versions.</summary>
internal sealed class ConfigFeed
{
    private readonly Lock _lock = new();
    private readonly Fanout<ConfigDocument> _subscribers;
    private ConfigDocument _current;

    public ConfigFeed(JsonElement config)
    {
        _subscribers = new Fanout<ConfigDocument>(_lock);
        _current = new ConfigDocument(1, Json.OrNull(config));
    }

    public ConfigDocument Current
    {
        get
        {
            lock (_lock)
            {
                return _current;
            }
        }
    }

    /// <summary>Publishes a reloaded config as the next version; an identical config publishes nothing.</summary>
    public bool Publish(JsonElement config)
    {
        config = Json.OrNull(config);
        lock (_lock)
        {
            if (config.GetRawText() == _current.Config.GetRawText())
            {
                return false;
            }

            _current = new ConfigDocument(_current.Version + 1, config);
            _subscribers.Publish(_current);

            return true;
        }
    }

    public Subscription<ConfigDocument> Subscribe()
    {
        lock (_lock)
        {
            return _subscribers.Subscribe(_current);
        }
    }

    public void Complete()
    {
        lock (_lock)
        {
            _subscribers.Complete();
        }
    }
}

/// <summary>JSON values from callers, made safe to serialise: an unset element becomes JSON null.</summary>
internal static class Json
{
    private static readonly JsonElement Null = JsonDocument.Parse("null").RootElement.Clone();

    public static JsonElement OrNull(JsonElement value) => value.ValueKind == JsonValueKind.Undefined ? Null : value.Clone();
}
