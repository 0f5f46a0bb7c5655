using System.Text.Json.Serialization;

namespace Corral.Node.Security;

/// <summary>What a credential may do; a credential carries one or more.</summary>
public static class CredentialScopes
{
    /// <summary>Register, and report its own endpoints and health: every node of the run.</summary>
    public const string Node = "node";

    /// <summary>Report the run's outcome (<c>finished</c>): only the roles an app module declares.</summary>
    public const string Outcome = "outcome";

    /// <summary>Restart, stop, scale and reload: the command line and the dashboard.</summary>
    public const string Operator = "operator";
}

/// <summary>
/// The claims of one credential, signed by the run's supervisor: whose it is (a node instance, or the operator), in which
/// run, and what it may do. It expires with the run: each run signs with a key of its own that is never written down.
/// </summary>
public sealed record Credential
{
    /// <summary>The role and node id of the operator's credential (the command line and the dashboard).</summary>
    public const string OperatorRole = "operator";

    [JsonPropertyName("run")]
    public required string RunId { get; init; }

    [JsonPropertyName("node")]
    public required string NodeId { get; init; }

    /// <summary>Which incarnation of <see cref="NodeId"/> it was issued to (0 for the operator).</summary>
    [JsonPropertyName("inst")]
    public long Instance { get; init; }

    [JsonPropertyName("role")]
    public required string Role { get; init; }

    [JsonPropertyName("scopes")]
    public required IReadOnlyList<string> Scopes { get; init; }

    public bool Has(string scope) => Scopes.Contains(scope, StringComparer.Ordinal);

    public bool IsOperator => Role == OperatorRole && Has(CredentialScopes.Operator);

    /// <summary>How a refusal names the caller: <c>worker-2 (workqueue.worker)</c>.</summary>
    public override string ToString() => IsOperator ? "the operator" : $"{NodeId} ({Role})";

    /// <summary>A node instance's claims: the node scope, and the outcome scope when its role may report the run's outcome.</summary>
    public static Credential ForNode(string runId, string nodeId, long instance, string role, bool reportsOutcome) => new()
    {
        RunId = runId,
        NodeId = nodeId,
        Instance = instance,
        Role = role,
        Scopes = reportsOutcome ? [CredentialScopes.Node, CredentialScopes.Outcome] : [CredentialScopes.Node],
    };

    /// <summary>The operator's claims (the command line and the dashboard).</summary>
    public static Credential ForOperator(string runId) => new()
    {
        RunId = runId,
        NodeId = OperatorRole,
        Role = OperatorRole,
        Scopes = [CredentialScopes.Operator],
    };
}

[JsonSerializable(typeof(Credential))]
[JsonSourceGenerationOptions(DefaultIgnoreCondition = JsonIgnoreCondition.Never)]
internal sealed partial class SecurityJson : JsonSerializerContext;
