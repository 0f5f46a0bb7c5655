using Corral.Hosting.Apps;

namespace Corral.Hosting.Supervision;

/// <summary>
/// Where the supervisor gets its app and plan, then and later: <see cref="Load"/> reads the topology as it is
/// now; <see cref="WaitForChangeAsync"/> completes when it may have changed (the CLI watches the file).
/// </summary>
public interface ITopologySource
{
    /// <summary>Loads and validates the current topology; throws <see cref="Topology.TopologyException"/> when it does not validate.</summary>
    LoadedApp Load();

    /// <summary>Completes when the topology may have changed; spurious wake-ups are fine (an unchanged plan changes nothing).</summary>
    Task WaitForChangeAsync(CancellationToken cancellationToken);
}

/// <summary>A topology held in memory, changed by calling <see cref="Set"/>: for tests and for embedding.</summary>
internal sealed class InMemoryTopologySource : ITopologySource
{
    private readonly Lock _lock = new();
    private Func<LoadedApp> _load;
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public InMemoryTopologySource(LoadedApp app) => _load = () => app;

    public LoadedApp Load()
    {
        lock (_lock)
        {
            return _load();
        }
    }

    /// <summary>Replaces the topology; <paramref name="load"/> may throw a TopologyException to model an invalid edit.</summary>
    public void Set(Func<LoadedApp> load)
    {
        TaskCompletionSource changed;
        lock (_lock)
        {
            _load = load;
            changed = _changed;
            _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);
        }

        changed.SetResult();
    }

    public void Set(LoadedApp app) => Set(() => app);

    public Task WaitForChangeAsync(CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            return _changed.Task.WaitAsync(cancellationToken);
        }
    }
}
