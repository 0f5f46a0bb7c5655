using Corral.Node.Control;
using Corral.Node.Feeds;

namespace Corral.Supervisor.Control;

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
