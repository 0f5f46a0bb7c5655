using Corral.Node.Apps;
using Corral.Supervisor.Supervision;

namespace Corral.Testing;

/// <summary>A topology held in memory, changed by calling <see cref="Set"/>: for tests.</summary>
public sealed class InMemoryTopologySource : ITopologySource
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
