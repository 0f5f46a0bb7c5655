using Corral.Node.Apps;
using Corral.Node.Topology;

namespace Corral.Supervisor.Supervision;

/// <summary>
/// Where the supervisor gets its app and plan, then and later: <see cref="Load"/> reads the topology as it is
/// now; <see cref="WaitForChangeAsync"/> completes when it may have changed (the CLI watches the file).
/// </summary>
public interface ITopologySource
{
    /// <summary>Loads and validates the current topology; throws <see cref="TopologyException"/> when it does not validate.</summary>
    LoadedApp Load();

    /// <summary>Completes when the topology may have changed; spurious wake-ups are fine (an unchanged plan changes nothing).</summary>
    Task WaitForChangeAsync(CancellationToken cancellationToken);
}
