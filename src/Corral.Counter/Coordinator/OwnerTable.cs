using Corral.Counter.Partitioning;
using Corral.Node.Control;

namespace Corral.Counter.Coordinator;

/// <summary>A worker the coordinator can send to: one instance of a node id, at one URL.</summary>
public sealed record WorkerRef(string NodeId, long Instance, Uri Url);

/// <summary>Which worker owns each partition, for one membership (minus suspects); immutable.</summary>
public sealed class OwnerView
{
    public OwnerView(IReadOnlyList<WorkerRef> workers, int partitions, long version)
    {
        Workers = workers;
        Version = version;
        var ids = workers.Select(w => w.NodeId).ToArray();
        Owners = Enumerable.Range(0, partitions).Select(p => Rendezvous.Owner(p, ids)).ToArray();
    }

    public IReadOnlyList<WorkerRef> Workers { get; }
    public long Version { get; }

    /// <summary>Index into <see cref="Workers"/> per partition; -1 when there is no worker.</summary>
    public IReadOnlyList<int> Owners { get; }

    public WorkerRef? OwnerOf(int partition) => Owners[partition] is >= 0 and var i ? Workers[i] : null;
}

/// <summary>
/// The coordinator's routing table: the ready workers from the membership feed, each partition's owner by rendezvous
/// hashing, and workers it suspects (a forward to them failed) left out for a short while, so their partitions move
/// to a live worker at once instead of after the supervisor notices the exit.
/// </summary>
public sealed class OwnerTable
{
    private readonly int _partitions;
    private readonly TimeProvider _time;
    private readonly TimeSpan _suspicion;
    private readonly Lock _lock = new();
    private readonly Dictionary<(string NodeId, long Instance), DateTimeOffset> _suspects = [];
    private IReadOnlyList<WorkerRef> _members = [];
    private volatile OwnerView _view;
    // UTC ticks, read without the lock on every request: a long can be read atomically, a DateTimeOffset cannot.
    private long _nextExpiry = long.MaxValue;
    private long _version;
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public OwnerTable(int partitions, TimeProvider time, TimeSpan? suspicion = null)
    {
        _partitions = partitions;
        _time = time;
        _suspicion = suspicion ?? TimeSpan.FromSeconds(2);
        _view = new OwnerView([], partitions, 0);
    }

    /// <summary>Whether a membership snapshot has arrived yet.</summary>
    public bool HasMembership { get; private set; }

    /// <summary>The current routing, with suspects whose time is up let back in.</summary>
    public OwnerView Current
    {
        get
        {
            if (_time.GetUtcNow().UtcTicks < Volatile.Read(ref _nextExpiry)) return _view;
            lock (_lock)
            {
                Rebuild();
                return _view;
            }
        }
    }

    /// <summary>The membership's ready workers (with an http URL) replace the previous ones.</summary>
    public void Update(MembershipSnapshot snapshot, string workerRole)
    {
        var members = snapshot.OfRole(workerRole)
            .Where(m => m.Urls.ContainsKey("http"))
            .Select(m => new WorkerRef(m.NodeId, m.Instance, new Uri(m.Url("http"))))
            .OrderBy(w => w.NodeId, StringComparer.Ordinal)
            .ToArray();
        lock (_lock)
        {
            _members = members;
            HasMembership = true;
            Rebuild();
        }
    }

    /// <summary>A forward to <paramref name="worker"/> failed: route around it for a while (or until it rejoins as a new instance).</summary>
    public void Suspect(WorkerRef worker)
    {
        lock (_lock)
        {
            _suspects[(worker.NodeId, worker.Instance)] = _time.GetUtcNow() + _suspicion;
            Rebuild();
        }
    }

    /// <summary>Completes when the routing changes or after <paramref name="timeout"/>, whichever is first.</summary>
    public async Task WaitForChangeAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        Task changed;
        lock (_lock) changed = _changed.Task;
        try
        {
            await changed.WaitAsync(timeout, _time, cancellationToken);
        }
        catch (TimeoutException)
        {
        }
    }

    private void Rebuild()
    {
        var now = _time.GetUtcNow();
        foreach (var key in _suspects.Where(s => s.Value <= now).Select(s => s.Key).ToArray()) _suspects.Remove(key);
        Volatile.Write(ref _nextExpiry, _suspects.Count == 0 ? long.MaxValue : _suspects.Values.Min().UtcTicks);
        var live = _members.Where(m => !_suspects.ContainsKey((m.NodeId, m.Instance))).ToArray();
        if (!live.SequenceEqual(_view.Workers))
        {
            _view = new OwnerView(live, _partitions, ++_version);
            var changed = _changed;
            _changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            changed.TrySetResult();
        }
    }
}
