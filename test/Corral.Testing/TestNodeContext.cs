using Corral.Node.Nodes;

namespace Corral.Testing;

/// <summary>Contexts for nodes run in-process by a test: the test token, port 0 for every port, the run's folder under the data folder.</summary>
public static class TestNodeContext
{
    public const string Token = "test-token";
    public const string RunId = "run-1";

    /// <summary>A context for <paramref name="nodeId"/>; <paramref name="ports"/> names the ports it binds (default: <c>http</c>).</summary>
    public static NodeContext Create(string nodeId, string role, string dataDirectory, Uri controlUrl, params string[] ports) => new()
    {
        NodeId = nodeId,
        Role = role,
        Token = Token,
        ControlUrl = controlUrl,
        RunId = RunId,
        RunDirectory = Path.Combine(dataDirectory, "runs", RunId),
        DataDirectory = dataDirectory,
        Ports = (ports.Length == 0 ? ["http"] : ports).ToDictionary(p => p, _ => 0),
    };
}
