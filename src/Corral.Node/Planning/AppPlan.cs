namespace Corral.Node.Planning;

/// <summary>What an app asks the supervisor to run: its roles, in no particular order (dependencies order them).</summary>
public sealed record AppPlan
{
    public required string App { get; init; }
    public required IReadOnlyList<RolePlan> Roles { get; init; }

    public RolePlan? Find(string role) => Roles.FirstOrDefault(r => r.Role == role);
}

/// <summary>Whether a node is started again after its process ends.</summary>
public enum RestartPolicy
{
    /// <summary>An exit is final (a node that drained, or a one-shot job).</summary>
    Never,

    /// <summary>A non-zero exit or a failed liveness probe restarts the node, with back-off, up to the cap.</summary>
    OnFailure,
}

/// <summary>A port a role's nodes listen on. Node <c>i</c> (1-based) gets <c>Base + (i - 1) * Step</c>.</summary>
public sealed record PlannedPort(string Name, int Base, int Step = 1)
{
    /// <summary>The scheme of the URL the supervisor publishes for this port (<c>redis</c> for a Redis server).</summary>
    public string Scheme { get; init; } = "http";
}

/// <summary>A single node's own port, replacing what its role's <see cref="PlannedPort"/> would give it (an original's worker URL list).</summary>
public sealed record NodePortOverride(int Ordinal, string Port, int Value);

/// <summary>
/// One role of a plan. Node ids are <c>{NodePrefix}-{i}</c> for i = 1..Count, or just <c>{NodePrefix}</c>
/// for a role that is a singleton (<see cref="Singleton"/>).
/// </summary>
public sealed record RolePlan
{
    /// <summary>Full role name, <c>app.role</c> (<c>shootout.cowboy</c>).</summary>
    public required string Role { get; init; }

    public required string NodePrefix { get; init; }
    public required int Count { get; init; }

    /// <summary>The role's ports; the first is its main HTTP port.</summary>
    public required IReadOnlyList<PlannedPort> Ports { get; init; }

    /// <summary>Which port the supervisor probes (<c>/healthz</c>, <c>/readyz</c>) when <see cref="Probe"/> is not given.</summary>
    public string ProbePort { get; init; } = "http";

    /// <summary>How readiness and liveness are checked; null: HTTP <c>/readyz</c> and <c>/healthz</c> on <see cref="ProbePort"/>.</summary>
    public ProbeSpec? Probe { get; init; }

    /// <summary>Single nodes' own ports, before the offset; the other nodes keep their role's sequence.</summary>
    public IReadOnlyList<NodePortOverride> PortOverrides { get; init; } = [];

    /// <summary>A program that is not Corral (redis-server, etcd) instead of <c>corral node &lt;role&gt;</c>; null for Corral nodes.</summary>
    public ProgramSpec? Program { get; init; }

    /// <summary>How long this role's nodes may take to stop after SIGTERM; null: the supervisor's grace period.</summary>
    public TimeSpan? GracePeriod { get; init; }

    /// <summary>Roles whose nodes must all be ready before this role's nodes start.</summary>
    public IReadOnlyList<string> DependsOn { get; init; } = [];

    public RestartPolicy Restart { get; init; } = RestartPolicy.OnFailure;

    /// <summary>Restarts allowed per node within any 60 s; the topology's <c>restarts:</c> may change it.</summary>
    public int MaxRestarts { get; init; } = 5;

    public TimeSpan InitialBackoff { get; init; } = TimeSpan.FromMilliseconds(200);
    public TimeSpan MaxBackoff { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Whether the dashboard or control API may change <see cref="Count"/> at run time.</summary>
    public bool Scalable { get; init; }

    /// <summary>A role with one node whose id is the bare prefix (<c>server</c>).</summary>
    public bool Singleton { get; init; }

    /// <summary>Arguments after <c>corral node &lt;role&gt;</c>.</summary>
    public IReadOnlyList<string> Args { get; init; } = [];

    /// <summary>
    /// Absolute host folders the role's nodes keep state in outside the data folder (a store the topology placed
    /// elsewhere): an engine that runs nodes in containers mounts each at the same path, so a restarted container
    /// finds its files.
    /// </summary>
    public IReadOnlyList<string> Folders { get; init; } = [];

    public string NodeId(int ordinal) => Singleton ? NodePrefix : $"{NodePrefix}-{ordinal}";

    public IEnumerable<string> NodeIds() => Enumerable.Range(1, Count).Select(NodeId);

    /// <summary>The fixed port of a node, before any offset: its own override if the plan gives one, else its place in the sequence.</summary>
    public int PortOf(PlannedPort port, int ordinal)
    {
        foreach (var own in PortOverrides)
        {
            if (own.Ordinal == ordinal && own.Port == port.Name)
            {
                return own.Value;
            }
        }

        return port.Base + (ordinal - 1) * port.Step;
    }

    /// <summary>The probe in effect: <see cref="Probe"/>, or a Corral node's HTTP endpoints on <see cref="ProbePort"/>.</summary>
    public ProbeSpec EffectiveProbe => Probe ?? ProbeSpec.CorralNode(ProbePort);

    /// <summary>Whether a node of <paramref name="other"/> would be started exactly like one of this role (same command, ports, probe).</summary>
    public bool StartsLike(RolePlan other) =>
        Args.SequenceEqual(other.Args) && Ports.SequenceEqual(other.Ports) && ProbePort == other.ProbePort &&
        PortOverrides.SequenceEqual(other.PortOverrides) && EffectiveProbe == other.EffectiveProbe &&
        ProgramSpec.SameProcess(Program, other.Program);
}
