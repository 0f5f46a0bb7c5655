using Corral.Node.Nodes;
using Corral.Node.Security;

namespace Corral.Testing;

/// <summary>
/// Contexts for nodes run in-process by a test: a credential of the test run for each node (signed by one key per test
/// process), port 0 for every port, the run's folder under the data folder.
/// </summary>
public static class TestNodeContext
{
    public const string RunId = "run-1";

    /// <summary>The test run's signer: every in-process node checks its callers against its public key.</summary>
    public static CredentialIssuer Issuer { get; } = CredentialIssuer.Create(RunId);

    /// <summary>The test run's operator credential (the command line's and the dashboard's).</summary>
    public static string Operator { get; } = Issuer.IssueOperator();

    /// <summary>The credential of <paramref name="nodeId"/> in <paramref name="role"/>; the outcome scope only when asked for.</summary>
    public static string CredentialOf(string nodeId, string role, bool reportsOutcome = false, long instance = 1) =>
        Issuer.IssueNode(nodeId, instance, role, reportsOutcome);

    /// <summary>Sends <paramref name="request"/> with the credential of <paramref name="nodeId"/> in <paramref name="role"/>.</summary>
    public static HttpRequestMessage As(this HttpRequestMessage request, string nodeId, string role)
    {
        request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", CredentialOf(nodeId, role));
        return request;
    }

    /// <summary>
    /// A context for <paramref name="nodeId"/>; <paramref name="ports"/> names the ports it binds (default: <c>http</c>).
    /// Its credential carries the outcome scope, as a test's stub control API does not know the app's outcome roles.
    /// </summary>
    public static NodeContext Create(string nodeId, string role, string dataDirectory, Uri controlUrl, params string[] ports) => new()
    {
        NodeId = nodeId,
        Role = role,
        Token = CredentialOf(nodeId, role, reportsOutcome: true),
        Credentials = Issuer.Verifier,
        ControlUrl = controlUrl,
        RunId = RunId,
        RunDirectory = Path.Combine(dataDirectory, "runs", RunId),
        DataDirectory = dataDirectory,
        Ports = (ports.Length == 0 ? ["http"] : ports).ToDictionary(p => p, _ => 0),
    };
}
