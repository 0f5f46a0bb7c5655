using Corral.Node.Http;
using Microsoft.AspNetCore.Builder;

namespace Corral.Supervisor.Supervision;

/// <summary>Starts one of the supervisor's own listeners (control API, dashboard) and reports the port it bound.</summary>
internal static class SupervisorListener
{
    /// <summary>
    /// Starts <paramref name="app"/>; a port that cannot be bound becomes a <see cref="SupervisorException"/> naming the
    /// listener and what to do instead (<paramref name="remedy"/>), so the run stops with one clear line.
    /// </summary>
    public static async Task<int> StartAsync(WebApplication app, string listener, string bindAddress, int port, string remedy, CancellationToken cancellationToken)
    {
        try
        {
            await app.StartAsync(cancellationToken);
        }
        catch (IOException e)
        {
            await app.DisposeAsync();
            throw new SupervisorException($"the {listener} cannot listen on {bindAddress}:{port} ({e.Message}); {remedy}");
        }

        return HttpServer.BoundPort(app);
    }

    /// <summary>
    /// The host a local client (the command line, <c>control.json</c>, a dashboard link) uses to reach a listener bound to
    /// <paramref name="bindAddress"/>: the address itself, or loopback for a wildcard one, which listens there too.
    /// </summary>
    public static string LocalHost(string bindAddress) => bindAddress switch
    {
        "0.0.0.0" => "127.0.0.1",
        "::" => "[::1]",
        _ when System.Net.IPAddress.TryParse(bindAddress, out var address) && address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6
            => $"[{address}]",
        _ => bindAddress,
    };
}
