using System.Net;
using System.Net.Sockets;
using Corral.Node.Planning;

namespace Corral.Supervisor.Supervision;

/// <summary>
/// Checks a node's readiness and liveness the way its role says: an HTTP GET answered 200, a TCP or unix-socket
/// connection accepted, or nothing (a program with no probe is ready once started and alive while its process runs).
/// </summary>
/// <param name="socketPath">
/// For <see cref="ProbeKind.UnixSocket"/>, or an HTTP probe through a socket: the socket's path, its template filled in
/// (<paramref name="httpOk"/> must then send its GET through that socket).
/// </param>
internal sealed class NodeProbe(ProbeSpec spec, Func<Uri, TimeSpan, Task<bool>> httpOk, TimeProvider time, string? socketPath = null)
{
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(100);

    /// <summary>The port name the probe targets, or null when it targets none (no probe, or a unix socket).</summary>
    public string? Port => spec.Kind is ProbeKind.None or ProbeKind.UnixSocket || spec.SocketPath is not null ? null : spec.Port;

    public bool ProbesNothing => spec.Kind == ProbeKind.None;

    /// <summary>Probes readiness every 100 ms until it passes (true), <paramref name="timeout"/> has passed or the wait is cancelled (false).</summary>
    /// <param name="port">The probed port's current number; 0 while a dynamic port is not yet known.</param>
    public async Task<bool> WaitReadyAsync(string host, Func<int> port, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var deadline = time.GetTimestamp() + (long)(timeout.TotalSeconds * time.TimestampFrequency);
        while (!cancellationToken.IsCancellationRequested)
        {
            if (await ReadyAsync(host, port(), TimeSpan.FromSeconds(1)))
            {
                return true;
            }

            if (time.GetTimestamp() >= deadline)
            {
                return false;
            }

            try
            {
                await Task.Delay(PollInterval, time, cancellationToken);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }

        return false;
    }

    public Task<bool> ReadyAsync(string host, int port, TimeSpan timeout) => CheckAsync(spec.ReadyPath, host, port, timeout);

    public Task<bool> LiveAsync(string host, int port, TimeSpan timeout) => CheckAsync(spec.LivePath, host, port, timeout);

    private async Task<bool> CheckAsync(string path, string host, int port, TimeSpan timeout)
    {
        switch (spec.Kind)
        {
            case ProbeKind.None:
                return true;
            case ProbeKind.Http when spec.SocketPath is not null:
                // The host only names the server in the request line; the connection is the socket's.
                return socketPath is not null && await httpOk(new Uri($"http://localhost{path}"), timeout);
            case ProbeKind.Http:
                return port > 0 && await httpOk(new Uri($"http://{host}:{port}{path}"), timeout);
            case ProbeKind.UnixSocket:
                return socketPath is not null && await ConnectsAsync(new UnixDomainSocketEndPoint(socketPath), timeout);
            default:
                return port > 0 && await ConnectsAsync(new DnsEndPoint(host, port), timeout);
        }
    }

    private async Task<bool> ConnectsAsync(EndPoint endPoint, TimeSpan timeout)
    {
        using var cancel = new CancellationTokenSource(timeout, time);
        using var socket = endPoint is UnixDomainSocketEndPoint
            ? new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified)
            : new Socket(SocketType.Stream, ProtocolType.Tcp);
        try
        {
            await socket.ConnectAsync(endPoint, cancel.Token);
            return true;
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException)
        {
            return false;
        }
    }
}
