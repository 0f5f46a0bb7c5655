using Corral.Node.Planning;
using Corral.Supervisor.Control;

namespace Corral.Supervisor.Supervision;

/// <summary>
/// What a <see cref="SupervisedNode"/> asks of the run it belongs to while its processes come and go: whether the
/// run is stopping, its dependencies' state, and where to report changes, lines and failures. Nothing else of the
/// supervisor is reachable from a node.
/// </summary>
internal interface ISupervisedNodeHost
{
    /// <summary>The run is stopping: no node starts another process.</summary>
    bool Stopping { get; }

    /// <summary>Completes at the next change of any node; take it, re-check, then await it.</summary>
    Task Changed { get; }

    void NotifyChanged();

    /// <summary>The first role among <paramref name="role"/>'s dependencies that has a node not yet ready, or null.</summary>
    string? UnreadyDependency(RolePlan role);

    /// <summary>Why <paramref name="role"/> can never start (a dependency's node has ended for good), or null.</summary>
    string? EndedDependency(RolePlan role);

    /// <summary>A supervisor line for the terminal and the run's log.</summary>
    void Say(string line);

    /// <summary>A line for the run's log only (<c>logs/corral.log</c>), not the terminal: what only someone debugging needs.</summary>
    void Note(string line);

    /// <summary>Ends the run as failed with <paramref name="error"/> (the first end wins).</summary>
    void Fail(string error);

    /// <summary>The node's loop has ended for good (drained, failed, stopped).</summary>
    void NodeEnded(SupervisedNode node);
}

/// <summary>What every node of a run shares and that does not change while it runs: options, the run, how to launch and probe.</summary>
/// <param name="ControlUrl">The control API's address as nodes are given it (no trailing slash).</param>
/// <param name="RunCgroup">The run's cgroup, each node process in a cgroup of its own inside it; null where the kernel allows none.</param>
internal sealed record NodeSupervisionContext(
    SupervisorOptions Options,
    RunFolder Run,
    string ControlUrl,
    NodeLauncher Launcher,
    StartWindow StartWindow,
    MembershipBoard Membership,
    NodeProber Prober,
    NodeCredentials Credentials,
    Cgroup? RunCgroup = null)
{
    /// <summary>With <c>--engine docker</c>: the run's network, where every node runs as a container.</summary>
    public DockerRunNetwork? Docker { get; init; }
}
