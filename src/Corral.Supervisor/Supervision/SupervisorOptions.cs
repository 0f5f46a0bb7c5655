using System.Net;
using System.Text.Json.Serialization;
using Corral.Node.Control;
using Corral.Node.Http;
using Corral.Node.Nodes;
using Corral.Node.Planning;
using Corral.Node.Security;
using Corral.Supervisor.Control;

namespace Corral.Supervisor.Supervision;

/// <summary>Everything app-agnostic the command line decides for one <c>corral up</c>.</summary>
public sealed record SupervisorOptions
{
    // The defaults span 2379 (etcd's client port) to 8100 + i (cowboys). Shifted by -1000 the lowest stays at 1379,
    // above the privileged ports below 1024 (and so above 0); shifted by +20000 the fixed ones stay at 28100 or
    // below, leaving room for thousands of numbered nodes under 32768, where the kernel's ephemeral range starts
    // (an outgoing connection could otherwise take a listener's port). PortMap still rejects any single port outside 1..65535.

    /// <summary>The lowest <c>--port-offset</c>.</summary>
    public const int MinPortOffset = -1000;

    /// <summary>The highest <c>--port-offset</c>.</summary>
    public const int MaxPortOffset = 20000;

    /// <summary>The highest port a listener chosen on the command line may take: below the ephemeral range.</summary>
    public const int HighestListenerPort = 32767;

    /// <summary>The data folder: runs go to <c>&lt;data&gt;/runs/&lt;run-id&gt;/</c>; apps keep their stores here.</summary>
    public required string DataDirectory { get; init; }

    /// <summary><c>--resume RUN-ID</c>: reuse that run's folder and id (an error if it does not exist).</summary>
    public string? ResumeRunId { get; init; }

    /// <summary><c>--keep-runs N</c>: when the run starts, run folders past the newest N are removed (0 keeps all).</summary>
    public int KeepRuns { get; init; } = RunRetention.DefaultKeep;

    /// <summary><c>--port-offset N</c>: shifts every planned port and the control API's.</summary>
    public int PortOffset { get; init; }

    /// <summary><c>--ports dynamic</c>: nodes bind port 0 and report what they got; the control API too.</summary>
    public bool DynamicPorts { get; init; }

    public long Seed { get; init; }

    /// <summary>
    /// Whether <see cref="Seed"/> was given (<c>--seed</c>, <c>--set seed=</c> or the topology); when it was not,
    /// a resumed run keeps the seed stored in its <c>run.json</c>.
    /// </summary>
    public bool ExplicitSeed { get; init; }

    /// <summary>How often the membership and config feeds send a heartbeat, so a client notices a half-open connection.</summary>
    public TimeSpan FeedHeartbeat { get; init; } = EventStream.DefaultHeartbeat;

    /// <summary>How long a node may take to drain after SIGTERM before its process group is killed.</summary>
    public TimeSpan GracePeriod { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>The control API's port before the offset; ignored (0) with <see cref="DynamicPorts"/>.</summary>
    public int ControlPort { get; init; } = 7999;

    /// <summary>The address the process engine's nodes bind (loopback: the promise "loopback by default").</summary>
    public string BindAddress { get; init; } = "127.0.0.1";

    /// <summary><c>--engine</c>: who starts and restarts the nodes.</summary>
    public SupervisorEngine Engine { get; init; } = SupervisorEngine.Process;

    /// <summary>With <c>--engine docker</c>: Corral's image for every Corral node (<c>corral image</c>); program roles run from <c>corral-PROGRAM</c> with its tag.</summary>
    public string DockerImage { get; init; } = "corral:latest";

    /// <summary>
    /// <c>--listen ADDRESS</c>: where the control API and the dashboard listen. Loopback by default; an engine whose nodes
    /// run elsewhere (containers) needs an address they reach, such as <c>0.0.0.0</c>.
    /// </summary>
    public string ListenAddress { get; init; } = "127.0.0.1";

    /// <summary>
    /// The names, besides the listen address, the control API and the dashboard answer to (their Host and Origin checks):
    /// the names the engine gives the supervisor's host, such as its Compose service name <c>corral-supervisor</c>.
    /// </summary>
    public IReadOnlyList<string> HostNames { get; init; } = [];

    /// <summary>
    /// The signing key and run id from <c>--signing-key-file</c> (<c>corral render</c> wrote them with the nodes'
    /// credentials); null makes a fresh key for a new run.
    /// </summary>
    public SigningKey? SigningKey { get; init; }

    /// <summary>
    /// The dashboard's port, as the command line decided it (<c>--dashboard PORT</c>, else 8000 shifted by the offset,
    /// 0 with <c>--ports dynamic</c>); null serves none (<c>--no-dashboard</c>, and tests that do not need one).
    /// </summary>
    public int? DashboardPort { get; init; }

    /// <summary>How long a started node may take to answer <c>/readyz</c> with 200 before it counts as failed.</summary>
    public TimeSpan ReadyTimeout { get; init; } = TimeSpan.FromSeconds(30);

    public TimeSpan LivenessInterval { get; init; } = TimeSpan.FromSeconds(1);
    public TimeSpan LivenessTimeout { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Consecutive failed <c>/healthz</c> probes after which a node is killed and restarted.</summary>
    public int LivenessFailures { get; init; } = 3;

    /// <summary>
    /// How many nodes may be starting (started, not yet ready) at once; the rest wait their turn. The default,
    /// four per core, lets a small app start all at once and a hundred nodes start without starving each other.
    /// </summary>
    public int MaxConcurrentStarts { get; init; } = 4 * Environment.ProcessorCount;

    public NodeLauncher? Launcher { get; init; }
    public IOutputSink? Sink { get; init; }
    public TimeProvider Time { get; init; } = TimeProvider.System;

    /// <summary>Where the supervisor first looks for the node <paramref name="nodeId"/>'s ports (see <see cref="NodePortLedger.Address"/>).</summary>
    internal string InitialNodeAddress(string nodeId) => Engine == SupervisorEngine.External ? nodeId : BindAddress;

    /// <summary>The names the control API and the dashboard answer to.</summary>
    internal ListenerNames ListenerNames => ListenerNames.Of(IPAddress.Parse(ListenAddress), HostNames);

    internal int EffectiveControlPort => DynamicPorts ? 0 : ControlPort + PortOffset;

    internal PortSettings PortSettings => new() { Offset = PortOffset, Dynamic = DynamicPorts, ControlPort = ControlPort };

    /// <summary>
    /// Every problem with these options, each a sentence a person can act on; empty when they are valid. The one
    /// place options are checked: the command line prints these (exit 2) and the supervisor refuses to start with any.
    /// </summary>
    public IReadOnlyList<string> Validate()
    {
        var problems = new List<string>();
        if (string.IsNullOrWhiteSpace(DataDirectory)) problems.Add("the data folder is empty");
        if (PortOffset is < MinPortOffset or > MaxPortOffset)
        {
            problems.Add($"--port-offset must be between {MinPortOffset} and {MaxPortOffset} so every default port stays between 1024 and {HighestListenerPort}, not {PortOffset}");
        }
        else if (DashboardPort is < 0 or > HighestListenerPort)
        {
            // Checked only with a valid offset: the default dashboard port follows the offset, so a bad offset would be reported twice.
            problems.Add($"--dashboard must be a port from 1 to {HighestListenerPort} (0 picks a free one), not {DashboardPort}");
        }

        if (DynamicPorts && PortOffset != 0) problems.Add("--port-offset and --ports dynamic exclude each other: dynamic ports have nothing to shift");
        if (KeepRuns < 0) problems.Add($"--keep-runs must be 0 (keep all) or more, not {KeepRuns}");
        if (GracePeriod <= TimeSpan.Zero) problems.Add("the grace period must be positive");
        if (ReadyTimeout <= TimeSpan.Zero) problems.Add("the readiness timeout must be positive");
        if (LivenessInterval <= TimeSpan.Zero || LivenessTimeout <= TimeSpan.Zero) problems.Add("liveness interval and timeout must be positive");
        if (LivenessFailures < 1) problems.Add("liveness failures must be at least 1");
        if (MaxConcurrentStarts < 1) problems.Add("at least one node must be allowed to start at a time");
        if (FeedHeartbeat <= TimeSpan.Zero) problems.Add("the feed heartbeat interval must be positive");
        if (!IPAddress.TryParse(BindAddress, out _)) problems.Add($"'{BindAddress}' is not an IP address to bind");
        if (!IPAddress.TryParse(ListenAddress, out _)) problems.Add($"--listen takes an IP address to listen on (127.0.0.1, 0.0.0.0, ::), not '{ListenAddress}'");
        if (HostNames.FirstOrDefault(n => Uri.CheckHostName(n) == UriHostNameType.Unknown) is { } badName)
        {
            problems.Add($"--host-name takes a host name or address (corral-supervisor), not '{badName}'");
        }

        if (Engine == SupervisorEngine.Docker && (string.IsNullOrWhiteSpace(DockerImage) || DockerImage.Any(char.IsWhiteSpace) || DockerImage.StartsWith('-')))
        {
            problems.Add($"--image takes an image name and tag (corral:0.1.0), not '{DockerImage}'");
        }

        if (Engine != SupervisorEngine.External && SigningKey is not null)
        {
            problems.Add("--signing-key-file goes with --engine external: the other engines issue their nodes' credentials themselves");
        }

        if (SigningKey is not null && ResumeRunId is not null && ResumeRunId != SigningKey.RunId)
        {
            problems.Add($"--resume {ResumeRunId} names another run than the signing key's ({SigningKey.RunId})");
        }
        return problems;
    }
}

/// <summary>Who starts and restarts a run's nodes (<c>corral up --engine</c>).</summary>
public enum SupervisorEngine
{
    /// <summary>The supervisor starts every node as a local process (the default).</summary>
    Process,

    /// <summary>Every node a container on a network the run creates.</summary>
    Docker,

    /// <summary>
    /// An engine that schedules and restarts the nodes itself (Compose, Kubernetes): the supervisor starts none, waits
    /// for each to join with its credential, probes it where it joined from, and counts one that stops answering as lost.
    /// </summary>
    External,
}

/// <summary>Why a run ended.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<RunEnd>))]
public enum RunEnd
{
    /// <summary>A node reported <c>finished</c>; the exit code follows its <c>passed</c>.</summary>
    Finished,

    /// <summary>A node exceeded its restart cap, or the control API failed: exit code 1.</summary>
    Failed,

    /// <summary>The caller cancelled (Ctrl+C, SIGTERM): exit code 130, the shell's convention for an interrupted command.</summary>
    Stopped,

    /// <summary>Every node ended on its own without a <c>finished</c> report: 0 if all drained (exit 0), else 1.</summary>
    AllExited,
}

/// <summary>How a run ended, for the command line to print and exit with.</summary>
public sealed record SupervisorResult(int ExitCode, RunEnd End, RunOutcome? Outcome, string? Error, RunFolder Run,
    IReadOnlyList<NodeStatus> Nodes)
{
    public const int InterruptedExitCode = 130;
}

/// <summary>A problem found before any node started (a taken port, a missing run folder): nothing was changed.</summary>
public sealed class SupervisorException(string message) : Exception(message);
