using Corral.Node.Nodes;

namespace Corral.Balancer.Tests.Helpers;

/// <summary>Node contexts for in-process nodes on port 0, and clients and bounds the balancer tests share.</summary>
public static class TestNodes
{
    /// <summary>How long a test waits for something the nodes do by themselves (a health check, a reload).</summary>
    public static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);

    /// <summary>Nothing listens there: in-process tests that do not start a <see cref="ControlApiStub"/> never call the control API.</summary>
    private static readonly Uri NoControlApi = new("http://127.0.0.1:9/");

    public static NodeContext Context(string nodeId, string role, string dataDirectory, long seed = 42) =>
        TestNodeContext.Create(nodeId, role, dataDirectory, NoControlApi, "http", "admin") with { Seed = seed };

    public static HttpClient Client(int port, TimeSpan? timeout = null) => new(new SocketsHttpHandler { UseProxy = false })
    {
        BaseAddress = new Uri($"http://127.0.0.1:{port}"),
        Timeout = timeout ?? TimeSpan.FromSeconds(30),
    };
}
