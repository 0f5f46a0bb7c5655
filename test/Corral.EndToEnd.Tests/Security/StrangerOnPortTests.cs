using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Corral.EndToEnd.Tests.Security;

/// <summary>A node proves who it is: a process that takes a node's port while the node is down is named and refused.</summary>
[Collection(EndToEnd.Collection)]
public sealed class StrangerOnPortTests : IDisposable
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(90);
    private readonly TempFolder _folder = new();
    private readonly HttpClient _http = new(new SocketsHttpHandler { UseProxy = false }) { Timeout = TimeSpan.FromSeconds(30) };

    public void Dispose()
    {
        _http.Dispose();
        _folder.Dispose();
    }

    [Fact]
    public async Task A_stranger_on_a_killed_workers_port_is_named_never_a_member_and_gets_no_credential()
    {
        // Fails on main: the restarted worker-1 was "ready" as soon as the stranger answered 200 on /readyz, and the
        // coordinator forwarded items to it with the run's token.
        var offset = FreeOffset();
        var topology = _folder.Write("counter.yaml", """
            app: counter
            workers: 1
            partitions: 4
            store: store/
            restarts:
              worker: 1000
            """);
        await using var corral = CorralProcess.Start(_folder.Path,
            ["up", topology, "--port-offset", offset.ToString(), "--data", Path.Combine(_folder.Path, "data"), "--no-dashboard"]);
        await corral.WaitForLineAsync(l => l.StartsWith("corral") && l.EndsWith("| worker-1 ready"), Bound, "worker-1 to be ready");
        await corral.WaitForLineAsync(l => l.StartsWith("corral") && l.EndsWith("| coordinator ready"), Bound, "the coordinator to be ready");
        var workerPort = 5001 + offset;
        var pid = Assert.Single(corral.PidsOf("worker-1"));

        Posix.Signal(pid, Posix.SigKill);
        using var stranger = await Stranger.TakeAsync(workerPort, TimeSpan.FromSeconds(10));
        await corral.WaitForLineAsync(l => l.Contains($"worker-1: port {workerPort} is answered by pid {Environment.ProcessId}", StringComparison.Ordinal),
            Bound, "the stranger to be named");
        // A write the coordinator must forward to worker-1's partitions: it waits for an owner rather than send it there.
        using (var brief = new CancellationTokenSource(TimeSpan.FromSeconds(3)))
        {
            try
            {
                using var posted = await _http.PostAsync($"http://127.0.0.1:{5000 + offset}/items",
                    new StringContent("""[{"id":"1","tenant":"t1"}]""", Encoding.UTF8, "application/json"), brief.Token);
                Assert.NotEqual(HttpStatusCode.OK, posted.StatusCode);
            }
            catch (TaskCanceledException)
            {
                // Still waiting for an owner: not sent to the stranger either.
            }
        }

        Assert.Equal(1, corral.Lines.Count(l => l.EndsWith("| worker-1 ready", StringComparison.Ordinal)));
        Assert.NotEmpty(stranger.Requests);
        Assert.All(stranger.Requests, r => Assert.DoesNotContain("authorization:", r, StringComparison.OrdinalIgnoreCase));
        Assert.All(stranger.Requests, r => Assert.Matches("^GET /(readyz|healthz) ", r));
        corral.Signal(Posix.SigInt);
        Assert.Contains(await corral.WaitForExitAsync(Bound), new[] { 1, 130 });
    }

    /// <summary>A port offset whose counter ports (coordinator, worker-1) and control API port are free now.</summary>
    private static int FreeOffset()
    {
        for (var offset = 10_000 + Environment.ProcessId % 5_000; ; offset += 37)
        {
            if (new[] { 5000, 5001, 7999 }.All(port => IsFree(port + offset))) return offset;
        }
    }

    private static bool IsFree(int port)
    {
        try
        {
            using var listener = new TcpListener(IPAddress.Loopback, port);
            listener.Start();
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    /// <summary>Not a Corral node: answers every request 200 with a body that looks ready, and keeps each request's head.</summary>
    private sealed class Stranger : IDisposable
    {
        private readonly TcpListener _listener;
        private readonly CancellationTokenSource _stop = new();

        private Stranger(TcpListener listener)
        {
            _listener = listener;
            _ = ServeAsync();
        }

        public ConcurrentQueue<string> Requests { get; } = new();

        /// <summary>
        /// Listens on <paramref name="port"/> as soon as the dead node's socket is gone: tried every few milliseconds, as the
        /// supervisor restarts the node after its back-off (160 ms at least) and the first to bind keeps the port.
        /// </summary>
        public static async Task<Stranger> TakeAsync(int port, TimeSpan timeout)
        {
            var deadline = DateTime.UtcNow + timeout;
            while (true)
            {
                var listener = new TcpListener(IPAddress.Loopback, port);
                try
                {
                    listener.Start();
                    return new Stranger(listener);
                }
                catch (SocketException) when (DateTime.UtcNow < deadline)
                {
                    listener.Dispose();
                    await Task.Delay(2);
                }
            }
        }

        private async Task ServeAsync()
        {
            while (!_stop.IsCancellationRequested)
            {
                TcpClient client;
                try
                {
                    client = await _listener.AcceptTcpClientAsync(_stop.Token);
                }
                catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
                {
                    return;
                }

                _ = Task.Run(async () =>
                {
                    using (client)
                    {
                        try
                        {
                            var stream = client.GetStream();
                            var head = new StringBuilder();
                            var buffer = new byte[4096];
                            while (!head.ToString().Contains("\r\n\r\n", StringComparison.Ordinal))
                            {
                                var read = await stream.ReadAsync(buffer, _stop.Token);
                                if (read == 0) break;
                                head.Append(Encoding.ASCII.GetString(buffer, 0, read));
                            }

                            Requests.Enqueue(head.ToString());
                            const string body = "{\"status\":\"ready\"}";
                            await stream.WriteAsync(Encoding.ASCII.GetBytes(
                                $"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {body.Length}\r\nConnection: close\r\n\r\n{body}"), _stop.Token);
                        }
                        catch (Exception e) when (e is IOException or OperationCanceledException or SocketException)
                        {
                        }
                    }
                });
            }
        }

        public void Dispose()
        {
            _stop.Cancel();
            _listener.Stop();
            _listener.Dispose();
            _stop.Dispose();
        }
    }
}
