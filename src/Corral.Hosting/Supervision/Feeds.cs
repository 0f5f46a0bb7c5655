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
/// The live members (ready and not draining) and the feed of their changes. Each change bumps the version
/// and is published under the same lock that takes a subscriber's first snapshot, so no event is missed
/// or seen twice.
/// </summary>
internal sealed class MembershipBoard
{
    private readonly Lock _lock = new();
    private readonly SortedDictionary<string, Member> _members = new(StringComparer.Ordinal);
    private readonly List<Channel<MembershipEvent>> _subscribers = [];
    private long _version;
    private bool _completed;

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
        var channel = Channel.CreateUnbounded<MembershipEvent>(new UnboundedChannelOptions { SingleReader = true });
        lock (_lock)
        {
            var first = new MembershipEvent(MembershipChange.Snapshot, null, SnapshotLocked());
            if (_completed)
            {
                channel.Writer.TryComplete();
            }
            else
            {
                _subscribers.Add(channel);
            }

            return new Subscription<MembershipEvent>(first, channel.Reader, () =>
            {
                lock (_lock)
                {
                    _subscribers.Remove(channel);
                }
            });
        }
    }

    /// <summary>Ends every feed (the run is over), so streaming responses finish.</summary>
    public void Complete()
    {
        lock (_lock)
        {
            _completed = true;
            foreach (var subscriber in _subscribers)
            {
                subscriber.Writer.TryComplete();
            }

            _subscribers.Clear();
        }
    }

    private MembershipSnapshot SnapshotLocked() => new(_version, _members.Values.ToArray());

    private void PublishLocked(MembershipChange change, Member member)
    {
        _version++;
        var @event = new MembershipEvent(change, member, SnapshotLocked());
        foreach (var subscriber in _subscribers)
        {
            subscriber.Writer.TryWrite(@event);
        }
    }
}

/// <summary>The app's config as served to nodes, and the feed of reloaded versions.</summary>
internal sealed class ConfigFeed
{
    private readonly Lock _lock = new();
    private readonly List<Channel<ConfigDocument>> _subscribers = [];
    private ConfigDocument _current;
    private bool _completed;

    public ConfigFeed(JsonElement config) => _current = new ConfigDocument(1, Json.OrNull(config));

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
            foreach (var subscriber in _subscribers)
            {
                subscriber.Writer.TryWrite(_current);
            }

            return true;
        }
    }

    public Subscription<ConfigDocument> Subscribe()
    {
        var channel = Channel.CreateUnbounded<ConfigDocument>(new UnboundedChannelOptions { SingleReader = true });
        lock (_lock)
        {
            if (_completed)
            {
                channel.Writer.TryComplete();
            }
            else
            {
                _subscribers.Add(channel);
            }

            return new Subscription<ConfigDocument>(_current, channel.Reader, () =>
            {
                lock (_lock)
                {
                    _subscribers.Remove(channel);
                }
            });
        }
    }

    public void Complete()
    {
        lock (_lock)
        {
            _completed = true;
            foreach (var subscriber in _subscribers)
            {
                subscriber.Writer.TryComplete();
            }

            _subscribers.Clear();
        }
    }
}

/// <summary>JSON values from callers, made safe to serialise: an unset element becomes JSON null.</summary>
internal static class Json
{
    private static readonly JsonElement Null = JsonDocument.Parse("null").RootElement.Clone();

    public static JsonElement OrNull(JsonElement value) => value.ValueKind == JsonValueKind.Undefined ? Null : value.Clone();
}
