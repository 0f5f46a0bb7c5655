using System.Text.Json;
using System.Threading.Channels;
using Corral.Hosting.Control;

namespace Corral.Hosting.Supervision;

/// <summary>A subscription to a feed: the state at the moment of subscribing, then every later event in order.</summary>
internal sealed class Subscription<T>(T first, ChannelReader<T> events, Action unsubscribe) : IDisposable
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
internal sealed class SubscriberTooSlowException(int capacity)
    : Exception($"the subscriber fell more than {capacity} events behind and was dropped; subscribe again for a fresh snapshot");

/// <summary>
/// The subscribers of one feed, each with a bounded queue: a subscriber that falls behind is dropped rather than
/// letting its backlog grow without limit (every event carries the full snapshot, so a fresh subscription loses
/// nothing). Not thread-safe on its own: its owner calls it under <paramref name="ownerLock"/>, the lock that guards
/// the state it publishes, so a subscriber's first item and later events never overlap or miss.
/// </summary>
internal sealed class Fanout<T>(Lock ownerLock, int capacity = Fanout<T>.DefaultCapacity)
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

/// <summary>
/// The members (ready or draining) and the feed of their changes, keyed by instance (node id and instance number)
/// so a late leave of an old process never removes its successor. Each change bumps the version and is published
/// under the same lock that takes a subscriber's first snapshot, so no event is missed or seen twice.
/// </summary>
internal sealed class MembershipBoard
{
    private readonly Lock _lock = new();
    private readonly SortedDictionary<(string NodeId, long Instance), Member> _members = new(Comparer<(string NodeId, long Instance)>.Create(
        (a, b) => string.CompareOrdinal(a.NodeId, b.NodeId) is var byId and not 0 ? byId : a.Instance.CompareTo(b.Instance)));
    private readonly Fanout<MembershipEvent> _subscribers;
    private long _version;

    public MembershipBoard(int capacity = Fanout<MembershipEvent>.DefaultCapacity) =>
        _subscribers = new Fanout<MembershipEvent>(_lock, capacity);

    public MembershipSnapshot Snapshot()
    {
        lock (_lock)
        {
            return SnapshotLocked();
        }
    }

    /// <summary>A ready member joins (or reports new URLs); a draining member cannot become ready again.</summary>
    public void Join(Member member)
    {
        lock (_lock)
        {
            var key = (member.NodeId, member.Instance);
            if (_members.TryGetValue(key, out var existing) &&
                (existing.State == MemberState.Draining || existing.Urls.SequenceEqual(member.Urls)))
            {
                return;
            }

            member = member with { State = MemberState.Ready };
            _members[key] = member;
            PublishLocked(MembershipChange.Joined, member);
        }
    }

    /// <summary>The member is leaving on purpose: it stays listed as draining until <see cref="Leave"/>.</summary>
    public void Drain(string nodeId, long instance)
    {
        lock (_lock)
        {
            if (_members.TryGetValue((nodeId, instance), out var member) && member.State != MemberState.Draining)
            {
                member = member with { State = MemberState.Draining };
                _members[(nodeId, instance)] = member;
                PublishLocked(MembershipChange.Draining, member);
            }
        }
    }

    /// <summary>The instance's process has exited (or is being replaced): it is no longer a member.</summary>
    public void Leave(string nodeId, long instance)
    {
        lock (_lock)
        {
            if (_members.Remove((nodeId, instance), out var member))
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

    public ConfigFeed(JsonElement config, int capacity = Fanout<ConfigDocument>.DefaultCapacity)
    {
        _subscribers = new Fanout<ConfigDocument>(_lock, capacity);
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
