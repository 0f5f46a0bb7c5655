using System.Net;
using System.Net.Sockets;
using Corral.Hosting.Nodes;

namespace Corral.Balancer.Tests.Helpers;

/// <summary>Node contexts for in-process nodes on port 0, with their data in a fresh temporary folder.</summary>
public static class TestNodes
{
    public const string Token = "test-token";

    public static string TempDirectory()
    {
        var path = Path.Combine(Path.GetTempPath(), "corral-balancer-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(path);
        return path;
    }

    public static NodeContext Context(string nodeId, string role, string dataDirectory, long seed = 42) => new()
    {
        NodeId = nodeId,
        Role = role,
        Token = Token,
        // Nothing listens there: in-process tests never call the control API.
        ControlUrl = new Uri("http://127.0.0.1:9/"),
        RunId = "test",
        RunDirectory = Path.Combine(dataDirectory, "runs", "test"),
        DataDirectory = dataDirectory,
        Seed = seed,
        Ports = new Dictionary<string, int> { ["http"] = 0, ["admin"] = 0 },
    };

    /// <summary>A loopback port that nothing listens on (bound, then released), so connecting to it is refused.</summary>
    public static int ClosedPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    /// <summary>Polls a condition until it holds or the bound passes; a bounded wait, not a sleep as synchronisation.</summary>
    public static async Task WaitUntilAsync(Func<bool> condition, TimeSpan? within = null, string? what = null)
    {
        var deadline = DateTime.UtcNow + (within ?? TimeSpan.FromSeconds(10));
        while (!condition())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"timed out waiting for {what ?? "a condition"}");
            await Task.Delay(20);
        }
    }

    public static async Task WaitUntilAsync(Func<Task<bool>> condition, TimeSpan? within = null, string? what = null)
    {
        var deadline = DateTime.UtcNow + (within ?? TimeSpan.FromSeconds(10));
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"timed out waiting for {what ?? "a condition"}");
            await Task.Delay(20);
        }
    }

    public static HttpClient Client(int port, TimeSpan? timeout = null) => new(new SocketsHttpHandler { UseProxy = false })
    {
        BaseAddress = new Uri($"http://127.0.0.1:{port}"),
        Timeout = timeout ?? TimeSpan.FromSeconds(30),
    };
}
