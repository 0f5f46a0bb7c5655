using System.Net.Http.Headers;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Primitives;

namespace Corral.Balancer.Proxy;

/// <summary>Copies headers between the client's and the upstream's messages, dropping hop-by-hop ones (RFC 9110 §7.6.1).</summary>
internal static class Headers
{
    private static readonly HashSet<string> HopByHop = new(StringComparer.OrdinalIgnoreCase)
    {
        "Connection", "Keep-Alive", "Proxy-Connection", "Proxy-Authenticate", "Proxy-Authorization",
        "TE", "Trailer", "Transfer-Encoding", "Upgrade",
    };

    /// <summary>Hop-by-hop headers plus any header the message's own <c>Connection</c> names.</summary>
    private static HashSet<string>? Nominated(StringValues connection)
    {
        if (StringValues.IsNullOrEmpty(connection)) return null;
        var names = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var value in connection)
        {
            foreach (var name in (value ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
                names.Add(name);
        }

        return names;
    }

    public static void CopyRequest(HttpContext context, HttpRequestMessage upstream)
    {
        var request = context.Request;
        var nominated = Nominated(request.Headers.Connection);
        foreach (var (name, values) in request.Headers)
        {
            if (HopByHop.Contains(name) || (nominated?.Contains(name) ?? false)) continue;
            // Host becomes the worker's (HttpClient sets it from the URI); the client's goes in X-Forwarded-Host.
            // Content-Length is set on the content itself; our own X-Forwarded-* are written below.
            if (name.Equals("Host", StringComparison.OrdinalIgnoreCase)
                || name.Equals("Content-Length", StringComparison.OrdinalIgnoreCase)
                || name.StartsWith("X-Forwarded-", StringComparison.OrdinalIgnoreCase)) continue;
            if (!upstream.Headers.TryAddWithoutValidation(name, (IEnumerable<string?>)values))
            {
                upstream.Content?.Headers.TryAddWithoutValidation(name, (IEnumerable<string?>)values);
            }
        }

        var remote = context.Connection.RemoteIpAddress;
        var forwardedFor = request.Headers["X-Forwarded-For"];
        var client = remote?.IsIPv4MappedToIPv6 == true ? remote.MapToIPv4().ToString() : remote?.ToString();
        if (client is not null)
        {
            upstream.Headers.TryAddWithoutValidation("X-Forwarded-For",
                StringValues.IsNullOrEmpty(forwardedFor) ? client : $"{forwardedFor}, {client}");
        }
        else if (!StringValues.IsNullOrEmpty(forwardedFor))
        {
            upstream.Headers.TryAddWithoutValidation("X-Forwarded-For", (IEnumerable<string?>)forwardedFor);
        }

        upstream.Headers.TryAddWithoutValidation("X-Forwarded-Proto", request.Scheme);
        if (request.Host.HasValue) upstream.Headers.TryAddWithoutValidation("X-Forwarded-Host", request.Host.Value);
    }

    public static void CopyResponse(HttpResponseMessage upstream, HttpResponse response)
    {
        var nominated = Nominated(upstream.Headers.TryGetValues("Connection", out var connection) ? connection.ToArray() : StringValues.Empty);
        Copy(upstream.Headers, response, nominated);
        Copy(upstream.Content.Headers, response, nominated);
    }

    private static void Copy(HttpHeaders headers, HttpResponse response, HashSet<string>? nominated)
    {
        foreach (var header in headers.NonValidated)
        {
            if (HopByHop.Contains(header.Key) || (nominated?.Contains(header.Key) ?? false)) continue;
            response.Headers[header.Key] = header.Value.Count == 1 ? new StringValues(header.Value.ToString()) : new StringValues(header.Value.ToArray());
        }
    }
}
