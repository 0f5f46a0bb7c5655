using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Corral.Node.Nodes;

/// <summary>The run's shared secret: mutating internal endpoints require it as a bearer token.</summary>
public static class ClusterToken
{
    public const string Scheme = "Bearer";

    /// <summary>A new random token for a run (256 bits, URL-safe).</summary>
    public static string Generate() =>
        Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    /// <summary>Whether the request carries the token, compared in constant time.</summary>
    public static bool IsPresent(HttpRequest request, string token)
    {
        var header = request.Headers.Authorization.ToString();
        if (!header.StartsWith(Scheme + " ", StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        var given = Encoding.UTF8.GetBytes(header[(Scheme.Length + 1)..].Trim());
        return CryptographicOperations.FixedTimeEquals(given, Encoding.UTF8.GetBytes(token));
    }

    /// <summary>401 problem details unless the request carries the run's token.</summary>
    public static TBuilder RequireClusterToken<TBuilder>(this TBuilder builder, string token) where TBuilder : IEndpointConventionBuilder
    {
        builder.AddEndpointFilter(async (context, next) =>
        {
            if (!IsPresent(context.HttpContext.Request, token))
            {
                context.HttpContext.Response.Headers.WWWAuthenticate = Scheme;
                return TypedResults.Problem(
                    statusCode: StatusCodes.Status401Unauthorized,
                    title: "Missing or wrong cluster token",
                    detail: $"send the run's token as 'Authorization: {Scheme} <token>'");
            }

            return await next(context);
        });
        return builder;
    }
}
