using Microsoft.AspNetCore.Http;

namespace Corral.Node.Http;

/// <summary>
/// The one rule for who may talk to a loopback listener (the control API, the dashboard): the Host header and, when a
/// browser sends one, the Origin must name this very listener.
/// </summary>
/// <remarks>
/// Decided once, for every listener:
/// <list type="bullet">
/// <item>Host names: <c>127.0.0.1</c>, <c>localhost</c> and <c>[::1]</c>. A DNS-rebinding page sends its own name as Host,
/// and no DNS name can be an address literal, so the IPv6 loopback literal is as safe as the IPv4 one.</item>
/// <item>Port: the one the listener bound (no port in the header means 80). Another local port is another origin: a page
/// served there must not reach this listener with the user's cookie.</item>
/// <item>Origin: absent (not a browser, or a same-origin GET), or <c>http://</c> + one of those names + the same port, and
/// nothing after it. <c>null</c>, https, another port or another host is cross-origin and refused.</item>
/// </list>
/// </remarks>
public static class LoopbackGuard
{
    /// <summary>Why the request's Host or Origin is refused (a 403's detail), or null when both are this listener's.</summary>
    public static string? Refusal(HttpRequest request, int port, string listener)
    {
        if (!IsOwnHost(request.Host, port))
        {
            return $"the {listener} answers only to Host 127.0.0.1:{port}, localhost:{port} or [::1]:{port}, not '{request.Host}'";
        }

        var origin = request.Headers.Origin.ToString();
        return origin.Length == 0 || IsOwnOrigin(origin, port) ? null : $"cross-origin requests are refused (Origin '{origin}')";
    }

    /// <summary>Whether <paramref name="host"/> names this listener: a loopback name and its port.</summary>
    public static bool IsOwnHost(HostString host, int port) =>
        host.HasValue && IsLoopbackName(host.Host) && (host.Port ?? 80) == port;

    /// <summary>Whether <paramref name="origin"/> is this listener's own origin (<c>http://127.0.0.1:PORT</c> and the like).</summary>
    public static bool IsOwnOrigin(string origin, int port) =>
        Uri.TryCreate(origin, UriKind.Absolute, out var uri) && uri.Scheme == Uri.UriSchemeHttp && IsLoopbackName(uri.Host) &&
        uri.Port == port && uri.AbsolutePath == "/" && uri.Query.Length == 0 && uri.Fragment.Length == 0 && uri.UserInfo.Length == 0;

    private static bool IsLoopbackName(string host) =>
        host is "127.0.0.1" or "[::1]" || host.Equals("localhost", StringComparison.OrdinalIgnoreCase);
}
