using System.Net;
using System.Net.WebSockets;
using System.Text;
using Corral.Balancer.Config;
using Corral.Balancer.Proxy;
using Corral.Balancer.Tests.Helpers;
using Corral.Balancer.Worker;

namespace Corral.Balancer.Tests.Proxy;

/// <summary>Real workers behind a real balancer: WebSockets through both of its ports, and HTTP/2 cleartext.</summary>
public sealed class WebSocketAndH2cTests
{
    private static async Task<WorkerNode[]> WorkersAsync(string directory, int count) =>
        await Task.WhenAll(Enumerable.Range(1, count).Select(i => WorkerNode.StartAsync(
            TestNodes.Context($"worker-{i}", BalancerPlan.WorkerRole, directory),
            new BalancerConfig { FailurePercent = 0, AvgDelay = TimeSpan.Zero })));

    private static Task<BalancerNode> BalancerAsync(IEnumerable<WorkerNode> workers) =>
        Balancers.StartAsync(new BalancerConfig { HealthCheck = new HealthCheckConfig { Interval = TimeSpan.FromSeconds(5) } },
            workers.Select(w => $"http://127.0.0.1:{w.ServicePort}").ToArray());

    /// <summary>The HTTP/1.1 port takes an Upgrade; the h2c port an HTTP/2 extended CONNECT (RFC 8441), over prior knowledge.</summary>
    private static async Task<ClientWebSocket> ConnectAsync(BalancerNode lb, bool h2c, HttpMessageInvoker invoker)
    {
        var socket = new ClientWebSocket();
        socket.Options.CollectHttpResponseDetails = true;
        if (h2c)
        {
            socket.Options.HttpVersion = HttpVersion.Version20;
            socket.Options.HttpVersionPolicy = HttpVersionPolicy.RequestVersionExact;
        }

        using var timeout = new CancellationTokenSource(TestNodes.Wait);
        await socket.ConnectAsync(new Uri($"ws://127.0.0.1:{(h2c ? lb.H2cPort!.Value : lb.Port)}/ws/echo"), invoker, timeout.Token);
        return socket;
    }

    private static async Task<string> EchoAsync(ClientWebSocket socket, string text)
    {
        using var timeout = new CancellationTokenSource(TestNodes.Wait);
        await socket.SendAsync(Encoding.UTF8.GetBytes(text), WebSocketMessageType.Text, true, timeout.Token);
        var buffer = new byte[1024];
        var received = await socket.ReceiveAsync(buffer, timeout.Token);
        Assert.Equal(WebSocketMessageType.Text, received.MessageType);
        return Encoding.UTF8.GetString(buffer, 0, received.Count);
    }

    private static HttpMessageInvoker Invoker() => new(new SocketsHttpHandler { UseProxy = false });

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_web_socket_echoes_through_the_balancer(bool h2c)
    {
        using var data = new TempFolder();
        var workers = await WorkersAsync(data.Path, 1);
        try
        {
            await using var lb = await BalancerAsync(workers);
            using var invoker = Invoker();
            using var socket = await ConnectAsync(lb, h2c, invoker);
            // An HTTP/2 WebSocket is accepted with 200 to its CONNECT, an HTTP/1.1 one with 101.
            Assert.Equal(h2c ? HttpStatusCode.OK : HttpStatusCode.SwitchingProtocols, socket.HttpStatusCode);
            Assert.Equal("hello", await EchoAsync(socket, "hello"));
            Assert.Equal("again", await EchoAsync(socket, "again"));
            // The open socket holds its worker's slot, so least-requests sees it.
            Assert.Equal(1, lb.Pool.All[0].InFlight);
            using var timeout = new CancellationTokenSource(TestNodes.Wait);
            await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "done", timeout.Token);
            Assert.Equal(WebSocketState.Closed, socket.State);
            await Eventually.TrueAsync(() => lb.Pool.All[0].InFlight == 0, TestNodes.Wait, "the socket's slot to be freed");
        }
        finally
        {
            foreach (var worker in workers) await worker.DisposeAsync();
        }
    }

    [Fact]
    public async Task A_web_socket_whose_worker_is_drained_closes_cleanly_and_the_client_connects_again()
    {
        using var data = new TempFolder();
        var workers = await WorkersAsync(data.Path, 2);
        try
        {
            await using var lb = await BalancerAsync(workers);
            using var invoker = Invoker();
            using var socket = await ConnectAsync(lb, h2c: false, invoker);
            Assert.Equal("before", await EchoAsync(socket, "before"));
            var holder = lb.Pool.All.Single(b => b.InFlight == 1);
            var worker = workers.Single(w => holder.BaseUrl.EndsWith($":{w.ServicePort}", StringComparison.Ordinal));

            var draining = worker.StopAsync();
            using var timeout = new CancellationTokenSource(TestNodes.Wait);
            var received = await socket.ReceiveAsync(new byte[1024], timeout.Token);
            Assert.Equal(WebSocketMessageType.Close, received.MessageType);
            Assert.Equal(WebSocketCloseStatus.EndpointUnavailable, socket.CloseStatus);
            await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, timeout.Token);
            Assert.Equal(WebSocketState.Closed, socket.State);
            await draining.WaitAsync(TestNodes.Wait);

            // The drained worker refuses connections now: the upgrade is retried on the other one.
            using var again = await ConnectAsync(lb, h2c: false, invoker);
            Assert.Equal("after", await EchoAsync(again, "after"));
            await again.CloseAsync(WebSocketCloseStatus.NormalClosure, null, timeout.Token);
        }
        finally
        {
            foreach (var worker in workers) await worker.DisposeAsync();
        }
    }

    [Fact]
    public async Task The_h2c_port_answers_HTTP2_with_prior_knowledge()
    {
        using var data = new TempFolder();
        var workers = await WorkersAsync(data.Path, 1);
        try
        {
            await using var lb = await BalancerAsync(workers);
            Assert.NotNull(lb.H2cPort);
            Assert.NotEqual(lb.Port, lb.H2cPort);
            using var client = new HttpClient(new SocketsHttpHandler { UseProxy = false })
            {
                DefaultRequestVersion = HttpVersion.Version20,
                DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact,
            };
            using var response = await client.GetAsync($"http://127.0.0.1:{lb.H2cPort}/api/v1/hello");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal(HttpVersion.Version20, response.Version);
            Assert.Equal("""{"message":"hello from worker worker-1"}""", await response.Content.ReadAsStringAsync());
        }
        finally
        {
            foreach (var worker in workers) await worker.DisposeAsync();
        }
    }
}
