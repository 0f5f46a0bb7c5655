using System.Net.WebSockets;
using Corral.Node.Nodes;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Corral.Balancer.Worker;

/// <summary>
/// <c>/ws/echo</c> on the worker's service port: every message comes back as it was sent. When the worker stops
/// (drain), each open socket is closed with 1001 (going away) and the handshake completed, so a client behind a
/// balancer sees a clean close rather than a broken connection, and can connect again to another worker.
/// </summary>
internal static class WebSocketEcho
{
    public static async Task HandleAsync(HttpContext http)
    {
        if (!http.WebSockets.IsWebSocketRequest)
        {
            await JsonBody.Problem(StatusCodes.Status400BadRequest, "Not a WebSocket request",
                "/ws/echo takes a WebSocket upgrade (GET with Upgrade: websocket, or an HTTP/2 extended CONNECT)").ExecuteAsync(http);
            return;
        }

        using var socket = await http.WebSockets.AcceptWebSocketAsync();
        var stopping = http.RequestServices.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping;
        using var sending = new SemaphoreSlim(1, 1);
        // A cancelled receive would abort the socket: the close is sent beside the pending receive instead, and the
        // loop ends when the client's close frame answers it.
        await using var onStop = stopping.Register(() => _ = CloseAsync(socket, sending));
        var buffer = new byte[16 * 1024];
        try
        {
            while (true)
            {
                var received = await socket.ReceiveAsync(buffer, http.RequestAborted);
                if (received.MessageType == WebSocketMessageType.Close)
                {
                    await sending.WaitAsync(http.RequestAborted);
                    try
                    {
                        if (socket.State == WebSocketState.CloseReceived)
                            await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, http.RequestAborted);
                    }
                    finally
                    {
                        sending.Release();
                    }

                    return;
                }

                await sending.WaitAsync(http.RequestAborted);
                try
                {
                    if (socket.State != WebSocketState.Open) continue;
                    await socket.SendAsync(buffer.AsMemory(0, received.Count), received.MessageType, received.EndOfMessage, http.RequestAborted);
                }
                finally
                {
                    sending.Release();
                }
            }
        }
        catch (Exception e) when (e is WebSocketException or OperationCanceledException)
        {
            // The peer went away without a close handshake: nothing left to answer.
        }
    }

    private static async Task CloseAsync(WebSocket socket, SemaphoreSlim sending)
    {
        await sending.WaitAsync();
        try
        {
            if (socket.State == WebSocketState.Open)
                await socket.CloseOutputAsync(WebSocketCloseStatus.EndpointUnavailable, "worker draining", CancellationToken.None);
        }
        catch (Exception e) when (e is WebSocketException or ObjectDisposedException or OperationCanceledException)
        {
            // Already closed or aborted: the receive loop ends on its own.
        }
        finally
        {
            sending.Release();
        }
    }
}
