using System.Net;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Primitives;
using Yarp.ReverseProxy.Forwarder;

namespace Corral.Balancer.Proxy;

/// <summary>
/// Corral's header rules on top of YARP's copy (which drops the fixed hop-by-hop set): headers the message's own
/// <c>Connection</c> names are dropped too (RFC 9110 §7.6.1), the worker gets its own Host, and <c>X-Forwarded-For</c>
/// is appended to, with <c>-Proto</c> and <c>-Host</c> set. On the answer it tells the exchange that the headers came,
/// and holds back a 5xx that the balancer will try on another worker, before anything reaches the client.
/// </summary>
internal sealed class WorkerTransformer : HttpTransformer
{
    public static readonly WorkerTransformer Instance = new();

    private WorkerTransformer()
    {
    }

    public override async ValueTask TransformRequestAsync(HttpContext httpContext, HttpRequestMessage proxyRequest, string destinationPrefix,
        CancellationToken cancellationToken)
    {
        await base.TransformRequestAsync(httpContext, proxyRequest, destinationPrefix, cancellationToken);
        var request = httpContext.Request;
        var headers = proxyRequest.Headers;
        headers.Host = null;
        var connection = request.Headers.Connection;
        if (!StringValues.IsNullOrEmpty(connection))
        {
            foreach (var name in Names(connection))
            {
                headers.Remove(name);
                proxyRequest.Content?.Headers.Remove(name);
            }
        }

        var forwardedFor = request.Headers["X-Forwarded-For"];
        headers.Remove("X-Forwarded-For");
        headers.Remove("X-Forwarded-Proto");
        headers.Remove("X-Forwarded-Host");
        var remote = httpContext.Connection.RemoteIpAddress;
        var client = remote?.IsIPv4MappedToIPv6 == true ? remote.MapToIPv4().ToString() : remote?.ToString();
        if (client is not null)
        {
            headers.TryAddWithoutValidation("X-Forwarded-For", StringValues.IsNullOrEmpty(forwardedFor) ? client : $"{forwardedFor}, {client}");
        }
        else if (!StringValues.IsNullOrEmpty(forwardedFor))
        {
            headers.TryAddWithoutValidation("X-Forwarded-For", (IEnumerable<string?>)forwardedFor);
        }

        headers.TryAddWithoutValidation("X-Forwarded-Proto", request.Scheme);
        // The header as the client sent it: HttpRequest.Host decodes punycode (xn--nxa.example → ά.example), which is no
        // valid header value, and the forward would fail.
        var host = request.Headers.Host.ToString();
        if (host.Length > 0) headers.TryAddWithoutValidation("X-Forwarded-Host", host);
    }

    public override async ValueTask<bool> TransformResponseAsync(HttpContext httpContext, HttpResponseMessage? proxyResponse,
        CancellationToken cancellationToken)
    {
        if (proxyResponse is null) return false;
        var exchange = httpContext.Features.Get<Exchange>();
        var status = (int)proxyResponse.StatusCode;
        if (exchange is not null)
        {
            if (status >= 500 && exchange.RetryOn5xx is { } retry && retry())
            {
                // Nothing was copied yet: returning false drops this answer, and the balancer asks another worker.
                exchange.RetriedStatus = status;
                return false;
            }

            exchange.HeadersReceived(upgraded: proxyResponse.StatusCode == HttpStatusCode.SwitchingProtocols);
        }

        var copy = await base.TransformResponseAsync(httpContext, proxyResponse, cancellationToken);
        if (proxyResponse.Headers.TryGetValues("Connection", out var connection))
        {
            foreach (var name in Names(connection))
            {
                // An upgrade keeps its Connection: Upgrade, which YARP restores after this.
                if (!name.Equals("Upgrade", StringComparison.OrdinalIgnoreCase)) httpContext.Response.Headers.Remove(name);
            }
        }

        return copy;
    }

    private static IEnumerable<string> Names(IEnumerable<string?> connection) =>
        connection.SelectMany(v => (v ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
}
