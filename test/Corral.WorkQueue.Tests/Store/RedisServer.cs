using System.Diagnostics;
using System.Net.Sockets;

namespace Corral.WorkQueue.Tests.Store;

/// <summary>
/// A real redis-server on a free loopback port, configured as the work queue runs it (append-only file, fsync on every
/// write), in a temporary folder; it dies with the test process (parent-death signal) and is killed on dispose.
/// </summary>
public sealed class RedisServer : IAsyncLifetime
{
    private readonly TempFolder _folder = new("corral-redis-");
    private Process? _process;

    public int Port { get; private set; }
    public string Url => $"redis://127.0.0.1:{Port}";

    public async Task InitializeAsync()
    {
        Port = LoopbackPort.Unused();
        var info = new ProcessStartInfo("setpriv") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in new[] { "--pdeathsig", "KILL", "--", "redis-server", "--bind", "127.0.0.1", "--port", Port.ToString(), "--dir", _folder.Path,
                     "--save", "", "--appendonly", "yes", "--appendfsync", "always", "--daemonize", "no" })
        {
            info.ArgumentList.Add(arg);
        }

        _process = Process.Start(info)!;
        _process.OutputDataReceived += (_, _) => { };
        _process.ErrorDataReceived += (_, _) => { };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        await Eventually.TrueAsync(async _ =>
        {
            try
            {
                using var client = new TcpClient();
                await client.ConnectAsync("127.0.0.1", Port);
                return true;
            }
            catch (SocketException)
            {
                return false;
            }
        }, TimeSpan.FromSeconds(10), $"redis-server to listen on {Port} (is redis-server installed? apt-get install redis-server)");
    }

    public async Task DisposeAsync()
    {
        if (_process is { HasExited: false })
        {
            _process.Kill();
            await _process.WaitForExitAsync();
        }

        _process?.Dispose();
        _folder.Dispose();
    }
}
