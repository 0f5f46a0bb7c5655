using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Corral.Supervisor.Supervision;

namespace Corral.Testing;

/// <summary>
/// Throwaway etcd members on loopback (ports below 32768, data in a temporary folder) that a test can SIGKILL and
/// start again on the same ports and data. Each member dies with the test process (<c>setpriv --pdeathsig KILL</c>).
/// </summary>
public sealed class EtcdServer : IAsyncDisposable
{
    private readonly TempFolder _folder = new();
    private readonly Member[] _members;

    private EtcdServer(int count)
    {
        var ports = FreePorts(count * 2);
        _members = Enumerable.Range(0, count)
            .Select(i => new Member($"m{i + 1}", ports[2 * i], ports[2 * i + 1], Path.Combine(_folder.Path, $"m{i + 1}")))
            .ToArray();
    }

    /// <summary>The client URLs, comma-separated, as Corral's <c>etcd:</c> setting takes them.</summary>
    public string Endpoints => string.Join(',', _members.Select(m => m.ClientUrl));

    public int Count => _members.Length;

    public string ClientUrl(int member) => _members[member].ClientUrl;

    public static async Task<EtcdServer> StartAsync(int members = 1)
    {
        var server = new EtcdServer(members);
        foreach (var m in server._members) await server.LaunchAsync(m);
        for (var i = 0; i < members; i++) await server.WaitHealthyAsync(i);
        return server;
    }

    /// <summary>SIGKILLs one member and waits until its process is gone.</summary>
    public void Kill(int member = 0)
    {
        var m = _members[member];
        if (m.Process is not { } p) return;
        try
        {
            p.Kill();
        }
        catch (InvalidOperationException)
        {
        }

        p.WaitForExit(5000);
        p.Dispose();
        m.Process = null;
    }

    /// <summary>Starts a killed member again on its ports and data, and waits until it answers.</summary>
    public async Task RestartAsync(int member = 0)
    {
        await LaunchAsync(_members[member]);
        await WaitHealthyAsync(member);
    }

    private async Task LaunchAsync(Member m)
    {
        var cluster = string.Join(',', _members.Select(x => $"{x.Name}=http://127.0.0.1:{x.PeerPort}"));
        var args = new[]
                 {
                     "--name", m.Name, "--data-dir", m.Data,
                     "--listen-client-urls", m.ClientUrl, "--advertise-client-urls", m.ClientUrl,
                     "--listen-peer-urls", $"http://127.0.0.1:{m.PeerPort}", "--initial-advertise-peer-urls", $"http://127.0.0.1:{m.PeerPort}",
                     "--initial-cluster", cluster, "--initial-cluster-state", "new", "--initial-cluster-token", Path.GetFileName(_folder.Path),
                     "--heartbeat-interval", "50", "--election-timeout", "500",
                 };

        // The platform's spawner: its own session, and death with this process from a thread that never retires.
        var p = await ProcessSpawner.Shared.StartAsync("etcd", args, info =>
        {
            info.RedirectStandardOutput = true;
            info.RedirectStandardError = true;
        });
        p.OutputDataReceived += (_, e) => m.Log(e.Data);
        p.ErrorDataReceived += (_, e) => m.Log(e.Data);
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
        m.Process = p;
    }

    private async Task WaitHealthyAsync(int member)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(1) };
        var m = _members[member];
        var url = m.ClientUrl + "/health";
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (DateTime.UtcNow < deadline)
        {
            try
            {
                if ((await http.GetStringAsync(url)).Contains("\"health\":\"true\"", StringComparison.Ordinal)) return;
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
            }

            await Task.Delay(50);
        }

        throw new TimeoutException($"etcd {m.Name} at {url} was not healthy within 20 s; its last lines:\n{m.Tail()}");
    }

    private static int[] FreePorts(int count)
    {
        // Below 32768: the ephemeral range above it may hand one of our ports to an outgoing connection.
        var ports = new List<int>();
        while (ports.Count < count)
        {
            var candidate = Random.Shared.Next(20000, 32000);
            if (ports.Contains(candidate)) continue;
            try
            {
                using var listener = new TcpListener(IPAddress.Loopback, candidate);
                listener.Start();
                ports.Add(candidate);
            }
            catch (SocketException)
            {
            }
        }

        return ports.ToArray();
    }

    public ValueTask DisposeAsync()
    {
        for (var i = 0; i < _members.Length; i++) Kill(i);
        _folder.Dispose();
        return ValueTask.CompletedTask;
    }

    private sealed class Member(string name, int clientPort, int peerPort, string data)
    {
        public string Name { get; } = name;
        public int PeerPort { get; } = peerPort;
        public string Data { get; } = data;
        public string ClientUrl { get; } = $"http://127.0.0.1:{clientPort}";
        public Process? Process { get; set; }
        private readonly Queue<string> _tail = new();

        public void Log(string? line)
        {
            if (line is null) return;
            lock (_tail)
            {
                _tail.Enqueue(line);
                if (_tail.Count > 20) _tail.Dequeue();
            }
        }

        public string Tail()
        {
            lock (_tail) return string.Join('\n', _tail);
        }
    }
}
