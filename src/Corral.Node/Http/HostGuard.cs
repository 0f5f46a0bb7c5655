using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Corral.Node.Http;

/// <summary>
/// The one rule for which Host (and, for the supervisor's listeners, which Origin) a listener answers to: its own bound
/// address and port. Every node listener (through <see cref="Nodes.NodeHost.UseNodeDefaults"/>), the control API and the
/// dashboard apply it; a foreign Host gets 421 Misdirected Request naming the hosts that are accepted.
/// </summary>
/// <remarks>
/// Decided once, for every listener:
/// <list type="bullet">
/// <item>Host names: the bound address literal (<c>127.0.0.1</c>, <c>[::1]</c>), and <c>localhost</c> when that address is a
/// loopback one. A DNS-rebinding page sends its own name as Host, and no DNS name can be an address literal.</item>
/// <item>Port: the one the connection arrived on (no port in the header means 80). Another local port is another origin:
/// a page served there must not reach this listener.</item>
/// <item>A listener bound to a wildcard address (<c>0.0.0.0</c>, <c>::</c>) has no one name to compare with and is not
/// checked, unless it is given names (<see cref="ListenerNames"/>): the supervisor listening off loopback on an engine.</item>
/// <item>Origin (the control API, the dashboard): absent (not a browser, or a same-origin GET), or <c>http://</c> + an
/// accepted name + the same port, and nothing after it. <c>null</c>, https, another port or another host is cross-origin.</item>
/// <item>Routes that must answer whatever Host a client sent (the balancer's proxied traffic) say so with
/// <see cref="EndpointExemptions.AcceptAnyHost{TBuilder}"/>.</item>
/// </list>
/// </remarks>
public static class HostGuard
{
    /// <summary>The Host values a listener bound to <paramref name="bound"/>:<paramref name="port"/> answers to, or null when any (a wildcard bind).</summary>
    public static IReadOnlyList<string>? AcceptedHosts(IPAddress bound, int port) => ListenerNames.Of(bound).HostsOn(port);

    /// <summary>Whether <paramref name="host"/> names this listener: its bound address (or <c>localhost</c> for loopback) and its port.</summary>
    public static bool IsOwnHost(HostString host, IPAddress bound, int port) => IsOwnHost(host, ListenerNames.Of(bound), port);

    /// <summary>Whether <paramref name="host"/> is one of <paramref name="names"/> with this listener's port.</summary>
    public static bool IsOwnHost(HostString host, ListenerNames names, int port) =>
        host.HasValue && (host.Port ?? 80) == port && names.Accepts(host.Host);

    /// <summary>Why <paramref name="host"/> is refused (a 421's detail), or null when it is this listener's.</summary>
    public static string? HostRefusal(HostString host, IPAddress bound, int port, string listener = "this listener") =>
        HostRefusal(host, ListenerNames.Of(bound), port, listener);

    /// <summary>Why <paramref name="host"/> is refused (a 421's detail), or null when it is one of <paramref name="names"/>.</summary>
    public static string? HostRefusal(HostString host, ListenerNames names, int port, string listener = "this listener") =>
        names.HostsOn(port) is not { } accepted || IsOwnHost(host, names, port)
            ? null
            : $"{listener} answers only to Host {string.Join(" or ", accepted)}, not '{host}'";

    /// <summary>Why the request's Origin is refused (a 403's detail), or null when it is absent or this listener's own.</summary>
    public static string? OriginRefusal(HttpRequest request, IPAddress bound, int port) => OriginRefusal(request, ListenerNames.Of(bound), port);

    /// <summary>Why the request's Origin is refused (a 403's detail), or null when it is absent or one of <paramref name="names"/>.</summary>
    public static string? OriginRefusal(HttpRequest request, ListenerNames names, int port)
    {
        var origin = request.Headers.Origin.ToString();
        return origin.Length == 0 || IsOwnOrigin(origin, names, port) ? null : $"cross-origin requests are refused (Origin '{origin}')";
    }

    /// <summary>Whether <paramref name="origin"/> is this listener's own origin (<c>http://127.0.0.1:PORT</c> and the like).</summary>
    public static bool IsOwnOrigin(string origin, IPAddress bound, int port) => IsOwnOrigin(origin, ListenerNames.Of(bound), port);

    /// <summary>Whether <paramref name="origin"/> is <c>http://</c> + one of <paramref name="names"/> + this port, and nothing after it.</summary>
    public static bool IsOwnOrigin(string origin, ListenerNames names, int port) =>
        Uri.TryCreate(origin, UriKind.Absolute, out var uri) && uri.Scheme == Uri.UriSchemeHttp && names.Accepts(uri.Host) &&
        uri.Port == port && uri.AbsolutePath == "/" && uri.Query.Length == 0 && uri.Fragment.Length == 0 && uri.UserInfo.Length == 0;

    /// <summary>
    /// Refuses, with 421 and the accepted hosts, a request whose Host is not the listener's own; the port is the one the
    /// connection arrived on, so one guard serves every listener of a host. Runs after routing (WebApplication routes first),
    /// so an endpoint marked <see cref="IAcceptAnyHost"/> is let through.
    /// </summary>
    public static IApplicationBuilder UseHostGuard(this IApplicationBuilder app, IPAddress bound, string listener = "this listener") =>
        app.UseHostGuard(ListenerNames.Of(bound), listener);

    /// <inheritdoc cref="UseHostGuard(IApplicationBuilder, IPAddress, string)"/>
    public static IApplicationBuilder UseHostGuard(this IApplicationBuilder app, ListenerNames names, string listener = "this listener") =>
        app.Use(async (context, next) =>
        {
            if (context.GetEndpoint()?.Metadata.GetMetadata<IAcceptAnyHost>() is null &&
                HostRefusal(context.Request.Host, names, context.Connection.LocalPort, listener) is { } refusal)
            {
                await TypedResults.Problem(statusCode: StatusCodes.Status421MisdirectedRequest, title: "Misdirected request", detail: refusal)
                    .ExecuteAsync(context);
                return;
            }

            await next(context);
        });
}
