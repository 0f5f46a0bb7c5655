using System.Net;
using System.Net.Sockets;
using Corral.Node.Planning;
using Corral.Supervisor.Supervision;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;

namespace Corral.Supervisor.Tests.Supervision;

/// <summary>Probes on real sockets, and the free ports picked for programs that cannot report theirs.</summary>
public sealed class NodeProbeTests
{
    private static Task<bool> NoHttp(Uri url, TimeSpan timeout) => throw new InvalidOperationException("no HTTP expected");

    [Fact]
    public async Task A_tcp_probe_passes_while_the_port_accepts_and_fails_once_it_is_closed()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        var probe = new NodeProbe(ProbeSpec.Tcp("client"), NoHttp, TimeProvider.System);

        Assert.True(await probe.ReadyAsync("127.0.0.1", port, TimeSpan.FromSeconds(2)));
        Assert.False(await probe.ReadyAsync("127.0.0.1", 0, TimeSpan.FromSeconds(2)));
        listener.Stop();
        Assert.False(await probe.LiveAsync("127.0.0.1", port, TimeSpan.FromSeconds(2)));
    }

    [Fact]
    public async Task A_unix_socket_probe_passes_while_the_socket_accepts_and_fails_once_it_is_closed()
    {
        using var folder = new TempFolder();
        var path = folder.Combine("s.sock");
        var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        listener.Bind(new UnixDomainSocketEndPoint(path));
        listener.Listen();
        var probe = new NodeProbe(ProbeSpec.UnixSocket("{data}/s.sock"), NoHttp, TimeProvider.System, path);

        Assert.Null(probe.Port);
        Assert.True(await probe.ReadyAsync("127.0.0.1", 0, TimeSpan.FromSeconds(2)));
        listener.Dispose();
        Assert.False(await probe.LiveAsync("127.0.0.1", 0, TimeSpan.FromSeconds(2)));
    }

    [Fact]
    public async Task An_http_probe_through_a_unix_socket_asks_its_path_there_and_fails_once_the_server_is_gone()
    {
        using var folder = new TempFolder();
        var path = folder.Combine("h.sock");
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.ConfigureKestrel(k => k.ListenUnixSocket(path));
        await using var app = builder.Build();
        var asked = new List<string>();
        app.Run(async http =>
        {
            lock (asked) asked.Add(http.Request.Path.Value ?? "");
            http.Response.StatusCode = http.Request.Path == "/health" ? 200 : 404;
            await http.Response.WriteAsync("{}");
        });
        await app.StartAsync();
        using var prober = new NodeProber(TimeProvider.System);
        var probe = new NodeProbe(ProbeSpec.HttpOverUnixSocket("{data}/h.sock", "/health"), (url, timeout) => prober.HttpOkAsync(url, timeout, path),
            TimeProvider.System, path);

        Assert.Null(probe.Port);
        Assert.True(await probe.ReadyAsync("127.0.0.1", 0, TimeSpan.FromSeconds(5)));
        Assert.True(await probe.LiveAsync("127.0.0.1", 0, TimeSpan.FromSeconds(5)));
        Assert.Equal(["/health", "/health"], asked);
        await app.StopAsync();
        Assert.False(await probe.LiveAsync("127.0.0.1", 0, TimeSpan.FromSeconds(2)));
    }

    [Fact]
    public async Task An_http_probe_asks_its_own_path_and_no_probe_always_passes()
    {
        var asked = new List<Uri>();
        var probe = new NodeProbe(ProbeSpec.HttpPath("client", "/health"), (url, _) =>
        {
            asked.Add(url);
            return Task.FromResult(true);
        }, TimeProvider.System);

        Assert.True(await probe.ReadyAsync("127.0.0.1", 2379, TimeSpan.FromSeconds(1)));
        Assert.True(await probe.LiveAsync("127.0.0.1", 2379, TimeSpan.FromSeconds(1)));
        Assert.Equal(["http://127.0.0.1:2379/health", "http://127.0.0.1:2379/health"], asked.Select(u => u.ToString()));

        var none = new NodeProbe(ProbeSpec.Nothing, NoHttp, TimeProvider.System);
        Assert.True(none.ProbesNothing);
        Assert.True(await none.WaitReadyAsync("127.0.0.1", () => 0, TimeSpan.FromSeconds(1), CancellationToken.None));
    }

    [Fact]
    public void A_picked_port_is_free_below_the_ephemeral_range_and_not_one_already_taken()
    {
        var taken = new HashSet<int>();
        for (var i = 0; i < 20; i++)
        {
            var port = LoopbackPorts.PickFree("127.0.0.1", taken);
            Assert.InRange(port, 1024, 32767);
            Assert.DoesNotContain(port, taken);
            Assert.True(LoopbackPorts.IsFree("127.0.0.1", port, out _));
            taken.Add(port);
        }
    }
}
