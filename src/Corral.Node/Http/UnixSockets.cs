using System.Net.Sockets;
using System.Text;

namespace Corral.Node.Http;

/// <summary>
/// Unix sockets for the servers a run manages (etcd, redis-server): they listen on a socket in a 0700 folder, not on a
/// TCP port that every local process could reach. Their paths are checked up front, and HTTP (gRPC included) reaches
/// them through <see cref="ConnectAsync"/>.
/// </summary>
public static class UnixSockets
{
    /// <summary>The longest path a unix socket may have on Linux: <c>sun_path</c> is 108 bytes, the last one its NUL.</summary>
    public const int MaxPathBytes = 107;

    /// <summary>Why <paramref name="path"/> cannot be <paramref name="owner"/>'s socket (it is too long), or null when it can.</summary>
    public static string? CheckPath(string path, string owner)
    {
        var bytes = Encoding.UTF8.GetByteCount(path);
        return bytes <= MaxPathBytes
            ? null
            : $"the unix socket of {owner} would be {path} ({bytes} bytes), longer than the {MaxPathBytes} bytes a unix socket path may have; " +
              "give the run a shorter data folder (--data DIR, e.g. --data /tmp/corral)";
    }

    /// <summary>
    /// A connected stream to the socket at <paramref name="path"/>, for <see cref="System.Net.Http.SocketsHttpHandler.ConnectCallback"/>:
    /// every request of that handler goes to this socket, whatever host its URL names.
    /// </summary>
    public static async ValueTask<Stream> ConnectAsync(string path, CancellationToken cancellationToken)
    {
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            await socket.ConnectAsync(new UnixDomainSocketEndPoint(path), cancellationToken);
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }
}
