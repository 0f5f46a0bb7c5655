using System.Collections.Concurrent;
using Corral.Node.Control;
using Corral.Node.Planning;
using Corral.Supervisor.Supervision;
using Corral.Supervisor.Tests.Supervision;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;

namespace Corral.Supervisor.Tests.Security;

/// <summary>A node proves who it is: the supervisor accepts only its own node instance's probe answers, and its credential files.</summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class NodeIdentityTests
{
    [Fact]
    public async Task A_stranger_answering_on_a_planned_port_is_named_refused_and_sent_no_credential()
    {
        // Fails on main: the stranger's 200 on /readyz made worker-1 "ready" and a member, so peers would send it
        // requests with their credentials.
        await using var stranger = await Stranger.StartAsync();
        var role = StubApp.Role("worker", 1) with { MaxRestarts = 1 };
        var ordinalPort = PortMap.PortsOf(role, 1, new PortSettings())["http"] - role.Ports[0].Base;
        role = role with { Ports = [new PlannedPort("http", stranger.Port - ordinalPort, 1)] };
        await using var h = new Harness(StubApp.Loaded(role), o => o with { DynamicPorts = false, ControlPort = LoopbackPort.Unused() });
        // The pre-check at start would refuse the taken port: the stranger takes it once the run has checked (as a
        // process would that grabbed it while the node was down).
        await stranger.StopAsync();
        await h.Supervisor.StartAsync();
        await using var again = await Stranger.StartAsync(stranger.Port);
        await h.StartAsync();

        await Eventually.TrueAsync(() => h.Sink.Has("corral", $"worker-1: port {stranger.Port} is answered by pid {Environment.ProcessId}"),
            TimeSpan.FromSeconds(60), "the stranger to be named\n" + h.Sink.Dump());
        var result = await h.Result.WaitAsync(TimeSpan.FromSeconds(90));

        Assert.Contains("it is not a Corral node", h.Sink.Dump());
        Assert.False(h.Sink.Has("corral", "worker-1 ready"), h.Sink.Dump());
        Assert.Equal(RunEnd.Failed, result.End);
        Assert.True(again.Requests.Count > 0, "the stranger was never probed");
        Assert.All(again.Requests, r => Assert.Equal("", r.Authorization));
        Assert.All(again.Requests, r => Assert.Contains(r.Path, new[] { "/readyz", "/healthz" }));
    }

    [Fact]
    public async Task A_nodes_credential_file_is_private_and_gone_once_the_node_runs_and_no_credential_is_in_its_environment()
    {
        await using var h = await new Harness(StubApp.Loaded(StubApp.Role("worker", 1))).StartAsync();
        await h.WaitReadyAsync(60, "worker-1");
        var secrets = h.Supervisor.Run.SecretsPath;
        var pid = h.Node("worker-1").Pid!.Value;
        using var http = new HttpClient();
        var whoami = await http.GetStringAsync(h.Node("worker-1").Urls["http"] + "/whoami");

        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(secrets));
        Assert.Empty(Directory.GetFiles(secrets));
        // Not dumpable: to any user but root, its environ, memory and descriptors are closed.
        Assert.Contains("\"dumpable\":false", whoami);
        var environment = File.ReadAllText($"/proc/{pid}/environ");
        Assert.Contains("CORRAL_CREDENTIAL_FILE=", environment);
        Assert.DoesNotContain("c1.", environment);
    }

    /// <summary>A process that is not the node: answers 200 to everything and records what it was sent.</summary>
    private sealed class Stranger : IAsyncDisposable
    {
        private readonly WebApplication _app;

        private Stranger(WebApplication app, int port)
        {
            _app = app;
            Port = port;
        }

        public int Port { get; }
        public ConcurrentQueue<(string Path, string Authorization)> Requests { get; } = new();

        public static async Task<Stranger> StartAsync(int port = 0)
        {
            var builder = WebApplication.CreateSlimBuilder();
            builder.WebHost.UseUrls($"http://127.0.0.1:{port}");
            var app = builder.Build();
            Stranger? self = null;
            app.Run(async http =>
            {
                self?.Requests.Enqueue((http.Request.Path.Value ?? "", http.Request.Headers.Authorization.ToString()));
                await http.Response.WriteAsync("{\"status\":\"ready\"}");
            });
            await app.StartAsync();
            var bound = new Uri(app.Urls.First()).Port;
            self = new Stranger(app, bound);
            return self;
        }

        public Task StopAsync() => _app.StopAsync();

        public async ValueTask DisposeAsync() => await _app.DisposeAsync();
    }
}
