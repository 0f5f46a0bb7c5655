using System.Diagnostics;
using System.Net.Sockets;
using System.Text;
using System.Text.RegularExpressions;
using Corral.Node.Control;
using Corral.Node.Planning;
using Corral.Supervisor.Supervision;

namespace Corral.Supervisor.Tests.Supervision;

/// <summary>A role that runs a program which is not Corral: a real redis-server (test.sh installs it from apt).</summary>
public sealed class ProgramRoleTests
{
    private static RolePlan Redis => RedisRole.Plan with { InitialBackoff = TimeSpan.FromMilliseconds(100) };

    [Fact]
    public async Task A_redis_server_role_starts_gets_ready_restarts_after_sigkill_and_stops_leaving_no_process()
    {
        await using var h = await new Harness(StubApp.Loaded(Redis)).StartAsync();
        await h.WaitReadyAsync(60, "redis");
        var first = h.Node("redis");
        var url = new Uri(first.Urls["client"]);
        Assert.Equal("redis", url.Scheme);
        Assert.InRange(url.Port, 1024, 32767);
        Assert.Equal("redis-server", Comm(first.Pid!.Value));
        Assert.Equal("+PONG", await PingAsync(url.Port));
        Assert.Contains(h.Sink.Lines, l => l.Name == "redis" && l.Line.Contains("Ready to accept connections", StringComparison.Ordinal));
        Assert.True(Directory.Exists(Path.Combine(h.Supervisor.Run.Path, "data", "redis")));
        Assert.Contains("Ready to accept connections", File.ReadAllText(h.Supervisor.Run.LogOf("redis")));

        Signals.Send(first.Pid!.Value, Signals.Kill);
        await Eventually.TrueAsync(() => h.Node("redis") is { State: NodeState.Ready, Pid: { } pid } && pid != first.Pid, TimeSpan.FromSeconds(60),
            "redis restarted and ready\n" + h.Sink.Dump());
        var second = h.Node("redis");
        Assert.Equal(1, second.Restarts);
        Assert.Matches(@"redis exited with code 137; restart 1 of 5 in \d+ms", h.Sink.Dump());
        Assert.Equal(url.Port, new Uri(second.Urls["client"]).Port);
        Assert.Equal("+PONG", await PingAsync(url.Port));

        var result = await h.StopAsync();

        Assert.Equal(RunEnd.Stopped, result.End);
        Assert.Equal(NodeState.Stopped, result.Nodes.Single().State);
        Assert.Contains("redis stopped (exit 0)", h.Sink.Dump());
        await Eventually.TrueAsync(() => !Signals.IsAlive(first.Pid!.Value) && !Signals.IsAlive(second.Pid!.Value) &&
                                         Signals.SessionMembers(second.Pid!.Value).Count == 0, TimeSpan.FromSeconds(10), "no redis-server left");
    }

    [Fact]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public async Task A_redis_server_on_a_unix_socket_only_is_probed_through_it_in_a_private_folder_and_listens_on_no_port()
    {
        var role = Redis with
        {
            Ports = [],
            Probe = ProbeSpec.UnixSocket("{data}/redis.sock"),
            Program = Redis.Program! with
            {
                Arguments = ["--port", "0", "--unixsocket", "{data}/redis.sock", "--unixsocketperm", "700", "--dir", "{data}", "--save", "", "--daemonize", "no"],
            },
        };
        await using var h = await new Harness(StubApp.Loaded(role)).StartAsync();
        await h.WaitReadyAsync(60, "redis");

        var folder = Path.Combine(h.Supervisor.Run.Path, "data", "redis");
        var socket = Path.Combine(folder, "redis.sock");
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(folder));
        Assert.Empty(h.Node("redis").Urls);
        Assert.Equal("+PONG", await PingAsync(new UnixDomainSocketEndPoint(socket)));
        Assert.DoesNotContain(h.Sink.Lines, l => l.Name == "redis" && l.Line.Contains("accept connections on port", StringComparison.Ordinal));
        await h.StopAsync();
    }

    [Fact]
    public async Task A_sigkilled_supervisor_leaves_no_redis_server()
    {
        using var data = new TempFolder("corral-kill-redis-");
        var info = new ProcessStartInfo(TestNodeBinary.Path) { RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var arg in new[] { "supervise", "--data", data.Path, "--nodes", "1", "--redis" })
        {
            info.ArgumentList.Add(arg);
        }

        using var supervisor = Process.Start(info)!;
        var lines = new List<string>();
        try
        {
            int? redis = null;
            using var reading = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            while (await supervisor.StandardOutput.ReadLineAsync(reading.Token) is { } line)
            {
                lines.Add(line);
                if (Regex.Match(line, @"^corral\s+\| redis started \(pid (\d+)\)") is { Success: true } started)
                {
                    redis = int.Parse(started.Groups[1].Value);
                }

                if (Regex.IsMatch(line, @"^corral\s+\| redis ready$"))
                {
                    break;
                }
            }

            Assert.True(redis is not null, string.Join("\n", lines));
            Assert.Equal("redis-server", Comm(redis!.Value));

            Signals.Send(supervisor.Id, Signals.Kill);
            await supervisor.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));

            await Eventually.TrueAsync(() => !Signals.IsAlive(redis.Value), TimeSpan.FromSeconds(10), $"redis-server {redis} gone with its supervisor");
        }
        finally
        {
            if (!supervisor.HasExited)
            {
                supervisor.Kill();
            }
        }
    }

    [Fact]
    public async Task A_missing_program_is_a_clear_error_at_start_saying_how_to_install_it()
    {
        var missing = Redis with { Program = Redis.Program! with { Executable = "corral-no-such-program", InstallHint = "apt-get install corral-no-such-program" } };
        await using var h = new Harness(StubApp.Loaded(missing));

        var error = await Assert.ThrowsAsync<SupervisorException>(() => h.Supervisor.StartAsync());

        Assert.Equal("the program 'corral-no-such-program' for role test.redis is not installed or not executable; " +
                     "install it with: apt-get install corral-no-such-program", error.Message);
    }

    [Fact]
    public async Task A_socket_path_longer_than_107_bytes_is_a_clear_error_at_start_naming_it_and_the_remedy()
    {
        var role = Redis with
        {
            Ports = [],
            Probe = ProbeSpec.UnixSocket("{data}/redis.sock"),
            Program = Redis.Program! with { Arguments = ["--port", "0", "--unixsocket", "{data}/redis.sock", "--dir", "{data}", "--daemonize", "no"] },
        };
        using var data = new TempFolder();
        var deep = Path.Combine(data.Path, new string('d', 60));
        await using var h = new Harness(StubApp.Loaded(role), o => o with { DataDirectory = deep });

        var error = await Assert.ThrowsAsync<SupervisorException>(() => h.Supervisor.StartAsync());

        Assert.Matches($@"^the unix socket of redis \(test\.redis\) would be {Regex.Escape(deep)}/runs/\d{{8}}-\d{{6}}-[0-9a-f]{{4}}/data/redis/redis\.sock " +
                       @"\(\d+ bytes\), longer than the 107 bytes a unix socket path may have; give the run a shorter data folder \(--data DIR", error.Message);
        Assert.False(Directory.Exists(Path.Combine(deep, "runs")), "nothing is started, no run folder made");
    }

    [Fact]
    public async Task A_program_gets_its_templated_arguments_and_environment_and_with_no_probe_is_ready_once_started()
    {
        var echo = StubApp.Role("echo", 1) with
        {
            Singleton = true,
            Probe = ProbeSpec.Nothing,
            Program = new ProgramSpec
            {
                Executable = "bash",
                Arguments = ["-c", "echo \"$GREETING listens on {port:http} in {data} {{braces}}, started in $PWD\"; exec sleep 600"],
                Environment = new Dictionary<string, string> { ["GREETING"] = "node {node}" },
            },
        };
        await using var h = await new Harness(StubApp.Loaded(echo)).StartAsync();
        await h.WaitReadyAsync(30, "echo");
        var port = new Uri(h.Node("echo").Urls["http"]).Port;
        var data = Path.Combine(h.Supervisor.Run.Path, "data", "echo");
        await h.WaitLineAsync("echo", $"node echo listens on {port} in {data} {{braces}}, started in {data}");
        Assert.Contains($"echo listens on http {port}", h.Sink.Dump());
    }

    [Fact]
    public async Task A_program_that_daemonizes_is_reported_as_having_escaped()
    {
        var daemon = Redis with
        {
            Program = Redis.Program! with
            {
                Arguments = ["--bind", "{bind}", "--port", "{port:client}", "--dir", "{data}", "--save", "", "--daemonize", "yes", "--pidfile", "{data}/redis.pid"],
            },
        };
        await using var h = await new Harness(StubApp.Loaded(daemon)).StartAsync();
        var data = Path.Combine(h.Supervisor.Run.Path, "data", "redis");
        try
        {
            var result = await h.Result.WaitAsync(TimeSpan.FromSeconds(30));
            Assert.Equal(NodeState.Exited, result.Nodes.Single().State);
            Assert.Contains("redis: redis-server exited 0 before it was ready; if it daemonized, it escaped supervision", h.Sink.Dump());
        }
        finally
        {
            // The escaped daemon is exactly what the warning is about: where there is no cgroup, this test must end it
            // itself. It is usually gone already: killed with the node's cgroup, or with the session when the session
            // sweep ran before the daemon's setsid.
            // redis-server chdirs to --dir before it forks, so whatever still runs in the node's folder is it.
            foreach (var pid in ProcessesWorkingIn(data))
            {
                Signals.Send(pid, Signals.Kill);
            }
        }
    }

    private static IEnumerable<int> ProcessesWorkingIn(string folder) =>
        Directory.EnumerateDirectories("/proc").Select(Path.GetFileName).Select(name => int.TryParse(name, out var pid) ? pid : 0)
            .Where(pid => pid > 0 && CwdOf(pid) == folder).ToArray();

    private static string? CwdOf(int pid)
    {
        try
        {
            return new DirectoryInfo($"/proc/{pid}/cwd").LinkTarget;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    [Fact]
    public void Templates_fill_in_ports_data_node_and_bind_and_reject_anything_else()
    {
        var ports = new Dictionary<string, int> { ["client"] = 2379, ["peer"] = 2380 };
        Assert.Equal("http://127.0.0.1:2380", ProgramTemplate.Expand("http://{bind}:{port:peer}", ports, "/d", "etcd-1", "127.0.0.1"));
        Assert.Equal("etcd-1=/d {x}", ProgramTemplate.Expand("{node}={data} {{x}}", ports, "/d", "etcd-1", "127.0.0.1"));
        Assert.Throws<FormatException>(() => ProgramTemplate.Expand("{port:metrics}", ports, "/d", "etcd-1", "127.0.0.1"));
        Assert.Contains("without its '}'", ProgramTemplate.Check("{data", ["client"]));
    }

    private static string Comm(int pid) => File.ReadAllText($"/proc/{pid}/comm").Trim();

    private static Task<string> PingAsync(int port) => PingAsync(new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, port));

    private static async Task<string> PingAsync(System.Net.EndPoint endPoint)
    {
        using var client = endPoint is UnixDomainSocketEndPoint
            ? new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified)
            : new Socket(SocketType.Stream, ProtocolType.Tcp);
        await client.ConnectAsync(endPoint);
        await using var stream = new NetworkStream(client);
        await stream.WriteAsync("PING\r\n"u8.ToArray());
        var buffer = new byte[64];
        var read = await stream.ReadAsync(buffer).AsTask().WaitAsync(TimeSpan.FromSeconds(5));
        return Encoding.ASCII.GetString(buffer, 0, read).Trim();
    }
}
