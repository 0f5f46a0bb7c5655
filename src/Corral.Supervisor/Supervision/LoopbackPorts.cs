using System.Net;
using System.Net.Sockets;

namespace Corral.Supervisor.Supervision;

/// <summary>Whether a port can be listened on, and free ports for programs that cannot report the one they bound.</summary>
internal static class LoopbackPorts
{
    // Below the kernel's ephemeral range (32768-60999), so an outgoing connection never takes a listener's port.
    private const int Lowest = 20000;
    private const int Highest = 32767;

    public static bool IsFree(string bindAddress, int port, out SocketError error)
    {
        try
        {
            using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            listener.Bind(new IPEndPoint(IPAddress.Parse(bindAddress), port));
            listener.Listen();
            error = SocketError.Success;
            return true;
        }
        catch (SocketException e)
        {
            error = e.SocketErrorCode;
            return false;
        }
    }

    /// <summary>
    /// A port below 32768 that could be bound just now, other than <paramref name="taken"/>. Another process may
    /// still take it before the program binds it: the program then fails to start and gets a fresh port next time.
    /// </summary>
    public static int PickFree(string bindAddress, IReadOnlySet<int> taken)
    {
        for (var attempt = 0; attempt < 200; attempt++)
        {
            var port = Random.Shared.Next(Lowest, Highest + 1);
            if (!taken.Contains(port) && IsFree(bindAddress, port, out _))
            {
                return port;
            }
        }

        throw new IOException($"found no free port between {Lowest} and {Highest} on {bindAddress}");
    }
}
