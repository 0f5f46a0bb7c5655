using System.Net;
using System.Net.Sockets;
using Corral.Node.Text;

namespace Corral.Balancer.Proxy;

/// <summary>
/// The connection pool to the workers: pooled keep-alive HTTP/1.1 connections with nothing a proxy must not do
/// (redirects, decompression, cookies, a proxy of its own, trace headers of its own). The connect timeout is read from
/// the current config on every new connection, so a reload changes it without a restart, and measured on the injected clock.
/// </summary>
internal static class WorkerConnections
{
    public static HttpMessageInvoker Create(BalancerState state, TimeProvider time) => new(new SocketsHttpHandler
    {
        UseProxy = false,
        AllowAutoRedirect = false,
        AutomaticDecompression = DecompressionMethods.None,
        UseCookies = false,
        EnableMultipleHttp2Connections = true,
        PooledConnectionIdleTimeout = TimeSpan.FromSeconds(60),
        ActivityHeadersPropagator = null,
        ConnectCallback = (context, cancellationToken) => ConnectAsync(context.DnsEndPoint, state.Config.Timeouts.Connect, time, cancellationToken),
    }, disposeHandler: true);

    private static async ValueTask<Stream> ConnectAsync(DnsEndPoint endPoint, TimeSpan timeout, TimeProvider time, CancellationToken cancellationToken)
    {
        using var deadline = new CancellationTokenSource(timeout, time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, deadline.Token);
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(endPoint, linked.Token);
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            socket.Dispose();
            throw new TimeoutException($"no connection to {endPoint.Host}:{endPoint.Port} within {Durations.Format(timeout)} (timeouts.connect)");
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }
}
