using System.Net;
using Corral.Node.Security;
using Corral.Node.Http;
using Corral.Node.Nodes;
using Microsoft.AspNetCore.Http;

namespace Corral.Supervisor.Dashboard;

/// <summary>The outcome of <see cref="DashboardAccess.Check"/>: allowed, or the status and reason to refuse with.</summary>
internal readonly record struct AccessDecision(int Status, string? Reason)
{
    public static readonly AccessDecision Allowed = new(StatusCodes.Status200OK, null);
    public bool IsAllowed => Reason is null;
}

/// <summary>
/// Who may use the dashboard. The Host must be the dashboard's own (<see cref="HostGuard"/>; 421 otherwise); every
/// request needs the session cookie or the operator's credential; a request that changes something needs an Origin that is the
/// dashboard itself, and a cookie-authenticated one must send it (browsers always do for such requests, so a missing
/// Origin means a client that should not be riding the cookie).
/// </summary>
internal sealed class DashboardAccess(OneTimeCodes codes, string token, ListenerNames? names = null)
{
    private readonly ListenerNames _bound = names ?? ListenerNames.Of(IPAddress.Loopback);

    public static string CookieName(int port) => $"corral-dashboard-{port}";

    public AccessDecision Check(HttpRequest request, int port)
    {
        if (HostGuard.HostRefusal(request.Host, _bound, port, "the dashboard") is { } misdirected)
        {
            return new(StatusCodes.Status421MisdirectedRequest, misdirected);
        }

        var byCookie = request.Cookies.TryGetValue(CookieName(port), out var session) && session is { Length: > 0 } && codes.IsSession(session);
        var byToken = !byCookie && CredentialVerifier.Presents(request, token);
        if (!byCookie && !byToken)
        {
            return new(StatusCodes.Status401Unauthorized,
                "open the one-time link 'corral up' printed, or get a fresh one with 'corral dashboard <run-id>'");
        }

        if (HttpMethods.IsGet(request.Method) || HttpMethods.IsHead(request.Method))
        {
            return AccessDecision.Allowed;
        }

        var origin = request.Headers.Origin.ToString();
        if (origin.Length == 0)
        {
            return byToken
                ? AccessDecision.Allowed
                : new(StatusCodes.Status403Forbidden, "a change made with the dashboard's cookie must carry the dashboard's Origin header");
        }

        return HostGuard.IsOwnOrigin(origin, _bound, port)
            ? AccessDecision.Allowed
            : new(StatusCodes.Status403Forbidden, $"cross-origin changes are refused (Origin '{origin}')");
    }
}
