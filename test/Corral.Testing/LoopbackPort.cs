using System.Net;
using System.Net.Sockets;

namespace Corral.Testing;

/// <summary>Loopback ports for tests.</summary>
public static class LoopbackPort
{
    /// <summary>A port that was free a moment ago and that nothing listens on now (bound, then released): connecting to it is refused.</summary>
    public static int Unused()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
