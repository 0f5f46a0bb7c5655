using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Corral.Node.Security;

/// <summary>
/// Node-to-node authorisation: an endpoint names which callers it serves (roles of the app, and perhaps the operator);
/// the caller's credential is checked against the run's public key, and the checked claims are there for the handler
/// (<see cref="Caller.Of"/>), which may check more (that a worker completes only its own task).
/// </summary>
public static class CallerRules
{
    /// <summary>
    /// 401 without a valid credential of this run; 403 when the caller's role is not one of <paramref name="roles"/>
    /// (<see cref="Credential.OperatorRole"/> admits the operator's credential).
    /// </summary>
    public static TBuilder RequireCaller<TBuilder>(this TBuilder builder, CredentialVerifier verifier, params string[] roles)
        where TBuilder : IEndpointConventionBuilder
    {
        var allowed = roles.ToHashSet(StringComparer.Ordinal);
        builder.AddEndpointFilter(async (context, next) =>
        {
            var http = context.HttpContext;
            if (verifier.Verify(http.Request, out var error) is not { } caller)
            {
                http.Response.Headers.WWWAuthenticate = CredentialVerifier.Scheme;
                return TypedResults.Problem(statusCode: StatusCodes.Status401Unauthorized, title: "Missing or invalid credential",
                    detail: $"send a credential of this run as 'Authorization: {CredentialVerifier.Scheme} <credential>' ({error})");
            }

            var admitted = caller.IsOperator ? allowed.Contains(Credential.OperatorRole) : caller.Has(CredentialScopes.Node) && allowed.Contains(caller.Role);
            if (!admitted)
            {
                return TypedResults.Problem(statusCode: StatusCodes.Status403Forbidden, title: "Caller not allowed",
                    detail: $"{caller} may not call this: it serves {string.Join(", ", roles)}");
            }

            http.Items[typeof(Credential)] = caller;
            return await next(context);
        });
        return builder;
    }
}

/// <summary>The checked caller of a request that passed <see cref="CallerRules.RequireCaller"/>.</summary>
public static class Caller
{
    public static Credential? Of(HttpContext http) => http.Items.TryGetValue(typeof(Credential), out var caller) ? caller as Credential : null;

    /// <summary>403 problem details: <paramref name="caller"/> may not act for <paramref name="subject"/>.</summary>
    public static Microsoft.AspNetCore.Http.HttpResults.ProblemHttpResult NotYours(Credential caller, string subject) =>
        TypedResults.Problem(statusCode: StatusCodes.Status403Forbidden, title: "Not the caller's",
            detail: $"{caller} may not act for {subject}");
}
