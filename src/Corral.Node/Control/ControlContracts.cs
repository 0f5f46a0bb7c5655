using System.Text.Json;
using System.Text.Json.Serialization;

namespace Corral.Node.Control;

/// <summary>
/// The supervisor's control API: one API for every app (nodes, membership, config, outcome, actions).
/// Every route requires a credential of the run as <c>Authorization: Bearer &lt;credential&gt;</c>; reads take any, a
/// change needs its scope: a node reports its own endpoints, an outcome role the outcome, the operator the rest.
/// </summary>
public static class ControlRoutes
{
    public const string Nodes = "/v1/nodes";
    public const string Membership = "/v1/membership";
    public const string MembershipEvents = "/v1/membership/events";
    public const string Config = "/v1/config";
    public const string ConfigEvents = "/v1/config/events";
    public const string Finished = "/v1/finished";

    /// <summary>POST: a fresh one-time link to the run's dashboard (404 when the run serves none).</summary>
    public const string DashboardCode = "/v1/dashboard/code";

    public static string Endpoints(string nodeId) => $"/v1/nodes/{Uri.EscapeDataString(nodeId)}/endpoints";
    public static string Restart(string nodeId) => $"/v1/nodes/{Uri.EscapeDataString(nodeId)}/restart";
    public static string Stop(string nodeId) => $"/v1/nodes/{Uri.EscapeDataString(nodeId)}/stop";
    public static string Scale(string role) => $"/v1/roles/{Uri.EscapeDataString(role)}/scale";

    /// <summary>POST (operator): a credential for a node started by hand, as <see cref="IssuedCredential"/>.</summary>
    public static string Credential(string nodeId) => $"/v1/nodes/{Uri.EscapeDataString(nodeId)}/credential";
}

/// <summary>
/// The states of a supervised node, the one list the control API (as these names, camel-cased in JSON:
/// <c>pending</c>, <c>backingOff</c>, ...), <c>run.json</c> and the README use. A node only ever moves forward
/// through one process's life: pending → starting → ready ⇄ unhealthy → (draining →) stopped | exited | failed,
/// and back to starting (via backingOff after a crash) when it is restarted.
/// </summary>
[JsonConverter(typeof(JsonStringEnumConverter<NodeState>))]
public enum NodeState
{
    /// <summary>Planned, not started yet: waiting for its dependencies, a start slot, or a predecessor of the same id to exit.</summary>
    [JsonStringEnumMemberName("pending")] Pending,

    /// <summary>Its process runs and has not answered <c>/readyz</c> yet.</summary>
    [JsonStringEnumMemberName("starting")] Starting,

    /// <summary>Answered <c>/readyz</c>; a member of the membership.</summary>
    [JsonStringEnumMemberName("ready")] Ready,

    /// <summary>Was ready, its last liveness probe failed; killed after several in a row.</summary>
    [JsonStringEnumMemberName("unhealthy")] Unhealthy,

    /// <summary>Its process crashed; waiting out the back-off before the next start.</summary>
    [JsonStringEnumMemberName("backingOff")] BackingOff,

    /// <summary>Leaving on purpose (reload, scale, stop, restart): got SIGTERM and is still tracked until its process has exited.</summary>
    [JsonStringEnumMemberName("draining")] Draining,

    /// <summary>Stopped by the supervisor (drained, or stopped before it started).</summary>
    [JsonStringEnumMemberName("stopped")] Stopped,

    /// <summary>Its process exited 0 on its own (the node drained itself); not restarted.</summary>
    [JsonStringEnumMemberName("exited")] Exited,

    /// <summary>Crashed for good: restart policy never, or its restart cap used up.</summary>
    [JsonStringEnumMemberName("failed")] Failed,
}

/// <summary>A member's state in the membership: serving, or leaving on purpose (so an app can tell a drain from a crash).</summary>
[JsonConverter(typeof(JsonStringEnumConverter<MemberState>))]
public enum MemberState
{
    /// <summary>Ready: send it work.</summary>
    [JsonStringEnumMemberName("ready")] Ready,

    /// <summary>Draining: finishing what it holds; send it nothing new. It leaves when its process has exited.</summary>
    [JsonStringEnumMemberName("draining")] Draining,
}

/// <summary>One node as the control API shows it.</summary>
public sealed record NodeStatus
{
    public required string NodeId { get; init; }

    /// <summary>Which of the node id's incarnations this is (1, 2, ...): a node drained and planned again gets the next one.</summary>
    public long Instance { get; init; } = 1;

    public required string Role { get; init; }
    public required NodeState State { get; init; }
    public int? Pid { get; init; }
    public int Restarts { get; init; }
    public int? LastExitCode { get; init; }

    /// <summary>When the running process started (null without one): the dashboard's uptime.</summary>
    public DateTimeOffset? StartedAt { get; init; }

    public IReadOnlyDictionary<string, string> Urls { get; init; } = new Dictionary<string, string>();
}

/// <summary>
/// A member: a node that became ready and whose process has not exited. It is keyed by its instance (node id and
/// <see cref="Instance"/>), so an old process of the same id leaving never removes its successor.
/// </summary>
public sealed record Member(string NodeId, string Role, IReadOnlyDictionary<string, string> Urls)
{
    public long Instance { get; init; } = 1;
    public MemberState State { get; init; } = MemberState.Ready;

    public string Url(string port = "http") => Urls.TryGetValue(port, out var url) ? url : throw new KeyNotFoundException($"{NodeId} has no '{port}' port");
}

/// <summary>Every member, ready or draining, at one version of the membership.</summary>
public sealed record MembershipSnapshot(long Version, IReadOnlyList<Member> Members)
{
    /// <summary>The role's ready members: the ones to send work to (draining members are left out).</summary>
    public IEnumerable<Member> OfRole(string role) => Members.Where(m => m.Role == role && m.State == MemberState.Ready);

    /// <summary>The role's members that are draining (leaving on purpose).</summary>
    public IEnumerable<Member> DrainingOf(string role) => Members.Where(m => m.Role == role && m.State == MemberState.Draining);
}

/// <summary>
/// What changed: a member joined, started draining (leaving on purpose), or left (its process exited; without a
/// <c>draining</c> before it, that was a crash). The snapshot after the change is always included.
/// </summary>
[JsonConverter(typeof(JsonStringEnumConverter<MembershipChange>))]
public enum MembershipChange
{
    Snapshot,
    Joined,
    Draining,
    Left,
}

/// <summary>One server-sent event of the membership feed.</summary>
public sealed record MembershipEvent(MembershipChange Change, Member? Member, MembershipSnapshot Snapshot);

/// <summary>The app's config as the supervisor currently runs it; the version grows on each reload.</summary>
public sealed record ConfigDocument(long Version, JsonElement Config);

/// <summary>A node reports the ports it bound (needed with <c>--ports dynamic</c>).</summary>
public sealed record EndpointsReport(IReadOnlyDictionary<string, int> Ports);

/// <summary>A finite app's result, reported once by its designated node; both fields are required (the summary may be null).</summary>
public sealed record RunOutcome([property: JsonRequired] bool Passed, [property: JsonRequired] JsonElement Summary);

/// <summary>A request to change a scalable role's node count; the count is required.</summary>
public sealed record ScaleRequest([property: JsonRequired] int Count);

/// <summary>
/// How a command on this machine reaches a running run's control API (<c>corral dashboard &lt;run-id&gt;</c>): written to
/// <c>&lt;run&gt;/control.json</c>, readable by its owner only, and removed when the run ends. <see cref="Token"/> is the operator's
/// credential (it may restart, stop and scale, never report an outcome); it stays out of argv and logs.
/// </summary>
public sealed record ControlAccess(string Url, string Token);

/// <summary>A credential minted for a node started by hand, with the run's public key: the two lines of its credential file.</summary>
public sealed record IssuedCredential(string NodeId, string Role, string Credential, string PublicKey);

/// <summary>The answer to <c>POST /v1/finished</c>: whether this report was the first (the one that decided the outcome).</summary>
public sealed record FinishedReply(bool First);

/// <summary>The answer to the control API's <c>/v1/dashboard/code</c> (and the dashboard's <c>POST /api/codes</c>): a fresh one-time link.</summary>
public sealed record DashboardLink(string Url);

/// <summary>Size limits of the control API's request bodies.</summary>
public static class ControlLimits
{
    /// <summary>
    /// An outcome report (<c>finished</c>) may be this large (at least 1 MiB is promised): a summary lists every cowboy
    /// and every round's winner, and the largest valid shootout (1000 cowboys with 64-character names over 10,000
    /// rounds) reports about 1.5 MB.
    /// </summary>
    public const int MaxOutcomeBytes = 2 * 1024 * 1024;

    /// <summary>Every other body is small.</summary>
    public const int MaxBodyBytes = 64 * 1024;
}
