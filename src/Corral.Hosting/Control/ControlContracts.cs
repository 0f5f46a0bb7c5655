using System.Text.Json;
using System.Text.Json.Serialization;

namespace Corral.Hosting.Control;

/// <summary>
/// The supervisor's control API: one API for every app (nodes, membership, config, outcome, actions).
/// Every route requires the run's token as <c>Authorization: Bearer &lt;token&gt;</c>.
/// </summary>
public static class ControlRoutes
{
    public const string Nodes = "/v1/nodes";
    public const string Membership = "/v1/membership";
    public const string MembershipEvents = "/v1/membership/events";
    public const string Config = "/v1/config";
    public const string ConfigEvents = "/v1/config/events";
    public const string Finished = "/v1/finished";

    public static string Endpoints(string nodeId) => $"/v1/nodes/{Uri.EscapeDataString(nodeId)}/endpoints";
    public static string Restart(string nodeId) => $"/v1/nodes/{Uri.EscapeDataString(nodeId)}/restart";
    public static string Stop(string nodeId) => $"/v1/nodes/{Uri.EscapeDataString(nodeId)}/stop";
    public static string Scale(string role) => $"/v1/roles/{Uri.EscapeDataString(role)}/scale";
}

/// <summary>Lifecycle of a supervised node.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<NodeState>))]
public enum NodeState
{
    Pending,
    Starting,
    Ready,
    Unhealthy,
    BackingOff,
    Draining,
    Stopped,
    Exited,
    Failed,
}

/// <summary>One node as the control API shows it.</summary>
public sealed record NodeStatus
{
    public required string NodeId { get; init; }
    public required string Role { get; init; }
    public required NodeState State { get; init; }
    public int? Pid { get; init; }
    public int Restarts { get; init; }
    public int? LastExitCode { get; init; }
    public IReadOnlyDictionary<string, string> Urls { get; init; } = new Dictionary<string, string>();
}

/// <summary>A live member: a node that is ready and not draining.</summary>
public sealed record Member(string NodeId, string Role, IReadOnlyDictionary<string, string> Urls)
{
    public string Url(string port = "http") => Urls.TryGetValue(port, out var url) ? url : throw new KeyNotFoundException($"{NodeId} has no '{port}' port");
}

/// <summary>Every live member at one version of the membership.</summary>
public sealed record MembershipSnapshot(long Version, IReadOnlyList<Member> Members)
{
    public IEnumerable<Member> OfRole(string role) => Members.Where(m => m.Role == role);
}

/// <summary>What changed: a member joined or left; the snapshot after the change is always included.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<MembershipChange>))]
public enum MembershipChange
{
    Snapshot,
    Joined,
    Left,
}

/// <summary>One server-sent event of the membership feed.</summary>
public sealed record MembershipEvent(MembershipChange Change, Member? Member, MembershipSnapshot Snapshot);

/// <summary>The app's config as the supervisor currently runs it; the version grows on each reload.</summary>
public sealed record ConfigDocument(long Version, JsonElement Config);

/// <summary>A node reports the ports it bound (needed with <c>--ports dynamic</c>).</summary>
public sealed record EndpointsReport(IReadOnlyDictionary<string, int> Ports);

/// <summary>A finite app's result, reported once by its designated node.</summary>
public sealed record RunOutcome(bool Passed, JsonElement Summary);

/// <summary>A request to change a scalable role's node count.</summary>
public sealed record ScaleRequest(int Count);
