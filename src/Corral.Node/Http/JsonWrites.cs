using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Net.Http.Headers;

namespace Corral.Node.Http;

/// <summary>
/// A write (POST, PUT, PATCH, DELETE) that carries a body must say it is JSON (<c>application/json</c> or
/// <c>application/*+json</c>): a 415 names the type to send. A page on any site can make a browser POST <c>text/plain</c>
/// or a form to a local port without asking first; it cannot send JSON that way. Routes whose original's clients send
/// another type opt out with <see cref="EndpointExemptions.AcceptAnyContentType{TBuilder}"/>.
/// </summary>
public static class JsonWrites
{
    /// <summary>Why the request is refused (a 415's detail), or null when it is not a write with a body, or its body is JSON.</summary>
    public static string? Refusal(HttpRequest request)
    {
        if (!IsWrite(request.Method) || !HasBody(request) || IsJson(request.ContentType)) return null;
        var sent = string.IsNullOrEmpty(request.ContentType) ? "no Content-Type" : $"'{request.ContentType}'";
        return $"{request.Method} {request.Path} takes a JSON body: send it with 'Content-Type: application/json' (got {sent})";
    }

    /// <summary>Whether <paramref name="contentType"/> is JSON: <c>application/json</c> or <c>application/*+json</c>, any parameters.</summary>
    public static bool IsJson(string? contentType)
    {
        if (!MediaTypeHeaderValue.TryParse(contentType, out var parsed) || !parsed.Type.Equals("application", StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        return parsed.SubType.Equals("json", StringComparison.OrdinalIgnoreCase) ||
               parsed.Suffix.Equals("json", StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>Refuses a non-JSON write with 415. Runs after routing, so an endpoint marked <see cref="IAcceptAnyContentType"/> is let through.</summary>
    public static IApplicationBuilder UseJsonWrites(this IApplicationBuilder app) =>
        app.Use(async (context, next) =>
        {
            // No endpoint: the 404 or 405 that follows says more than a 415 would.
            var endpoint = context.GetEndpoint();
            if (endpoint is not null && endpoint.Metadata.GetMetadata<IAcceptAnyContentType>() is null && Refusal(context.Request) is { } refusal)
            {
                await TypedResults.Problem(statusCode: StatusCodes.Status415UnsupportedMediaType, title: "Unsupported media type", detail: refusal)
                    .ExecuteAsync(context);
                return;
            }

            await next(context);
        });

    private static bool IsWrite(string method) =>
        HttpMethods.IsPost(method) || HttpMethods.IsPut(method) || HttpMethods.IsPatch(method) || HttpMethods.IsDelete(method);

    // A Content-Length of 0 is no body; without one, Kestrel knows (chunked, or an HTTP/2 stream with data frames).
    private static bool HasBody(HttpRequest request) =>
        request.ContentLength is { } length
            ? length > 0
            : request.HttpContext.Features.Get<IHttpRequestBodyDetectionFeature>()?.CanHaveBody ?? false;
}
