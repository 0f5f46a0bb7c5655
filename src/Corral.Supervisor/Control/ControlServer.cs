using System.Net;
using System.Runtime.CompilerServices;
using System.Security.Claims;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Corral.Node.Control;
using Corral.Node.Feeds;
using Corral.Node.Http;
using Corral.Node.Nodes;
using Corral.Node.Security;
using Corral.Supervisor.Supervision;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Corral.Supervisor.Control;

/// <summary>What the control API acts on: the supervisor, seen through the few operations the routes need.</summary>
internal interface IControlPlane
{
    IReadOnlyList<NodeStatus> Nodes();
    MembershipBoard Membership { get; }
    ConfigFeed Config { get; }

    /// <summary>Records the run's outcome; only the first report counts. Returns whether this one did.</summary>
    bool Finish(RunOutcome outcome);

    /// <summary>The node reports its ports; <paramref name="from"/> is the address the report came from (where an external engine's node is reached).</summary>
    bool ReportEndpoints(string nodeId, IReadOnlyDictionary<string, int> ports, IPAddress? from);
    NodeActionResult RestartNode(string nodeId);
    NodeActionResult StopNode(string nodeId);
    ScaleReply Scale(string role, int count);

    /// <summary>A node-scoped credential for the planned node <paramref name="nodeId"/>'s next instance, or null for an unknown node.</summary>
    IssuedCredential? IssueCredential(string nodeId);
}

internal enum ScaleResult
{
    Accepted,
    UnknownRole,
    NotScalable,

    /// <summary>The scaled plan cannot run (its ports collide, say): nothing changed.</summary>
    InvalidPlan,
}

/// <summary>A scale request's result, with the reason when the scaled plan was refused.</summary>
internal readonly record struct ScaleReply(ScaleResult Result, string? Problem = null);

internal enum NodeActionResult
{
    Accepted,
    UnknownNode,

    /// <summary>The node has no process to act on: it has exited, failed for good, was stopped, or is draining.</summary>
    NotRunning,
}

/// <summary>How the control API runs besides its address: its clock and feed heartbeat, and (for tests) extra routes.</summary>
internal sealed record ControlServerOptions
{
    public TimeProvider Time { get; init; } = TimeProvider.System;
    public TimeSpan Heartbeat { get; init; } = EventStream.DefaultHeartbeat;

    /// <summary>Routes mapped after the control API's own; the same authentication applies to them (operator routes say so).</summary>
    public Action<IEndpointRouteBuilder>? MapExtra { get; init; }

    /// <summary>The names the API answers to besides its listen address (Host and Origin checks); none by default.</summary>
    public IReadOnlyList<string> HostNames { get; init; } = [];
}

/// <summary>The supervisor's control API (on loopback unless <c>--listen</c> says otherwise): the routes of <see cref="ControlRoutes"/>, credential scopes and Host/Origin checked.</summary>
internal sealed class ControlServer : IAsyncDisposable
{
    public const int MaxScale = 256;
    private readonly WebApplication _app;

    private ControlServer(WebApplication app, Uri url)
    {
        _app = app;
        Url = url;
    }

    public Uri Url { get; }

    /// <summary>Every endpoint the server maps (what authentication must cover).</summary>
    public IReadOnlyList<Endpoint> Endpoints => _app.Services.GetRequiredService<EndpointDataSource>().Endpoints;

    public static async Task<ControlServer> StartAsync(IControlPlane plane, CredentialVerifier verifier, string bindAddress, int port,
        CancellationToken cancellationToken, ControlServerOptions? options = null)
    {
        options ??= new ControlServerOptions();
        // The largest body any route takes; each route reads its own, smaller limit through JsonBody.
        var builder = HttpServer.CreateBuilder("corral-control", bindAddress, port, ControlLimits.MaxOutcomeBytes);
        builder.Logging.ClearProviders();
        builder.Services.AddAuthentication(CredentialAuthentication.SchemeName)
            .AddScheme<CredentialAuthenticationOptions, CredentialAuthentication>(CredentialAuthentication.SchemeName, o => o.Verifier = verifier);
        // The fallback policy covers every endpoint with no policy of its own, however it was mapped
        // (a plain RequestDelegate included), and requests that match no endpoint at all: any credential of the run
        // may read. Each route that changes something names the scope it needs.
        var anyCredential = new AuthorizationPolicyBuilder(CredentialAuthentication.SchemeName).RequireAuthenticatedUser().Build();
        AuthorizationPolicy Scope(string scope) => new AuthorizationPolicyBuilder(CredentialAuthentication.SchemeName)
            .RequireAuthenticatedUser().RequireClaim(CredentialAuthentication.ScopeClaim, scope).Build();
        builder.Services.AddAuthorizationBuilder().SetDefaultPolicy(anyCredential).SetFallbackPolicy(anyCredential)
            .AddPolicy(ControlPolicies.Node, Scope(CredentialScopes.Node))
            .AddPolicy(ControlPolicies.Outcome, Scope(CredentialScopes.Outcome))
            .AddPolicy(ControlPolicies.Operator, Scope(CredentialScopes.Operator));
        builder.Services.ConfigureHttpJsonOptions(o => o.SerializerOptions.TypeInfoResolverChain.Insert(0, ControlJson.Default));
        var app = builder.Build();
        var names = ListenerNames.Of(IPAddress.Parse(bindAddress), options.HostNames);
        app.UseHostGuard(names, "the control API");
        app.Use(async (context, next) =>
        {
            if (HostGuard.OriginRefusal(context.Request, names, context.Connection.LocalPort) is { } reason)
            {
                await TypedResults.Problem(statusCode: StatusCodes.Status403Forbidden, title: "Forbidden", detail: reason)
                    .ExecuteAsync(context);
                return;
            }

            await next(context);
        });
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.UseRouting();
        app.UseJsonWrites();
        app.UseAuthentication();
        app.UseAuthorization();
        app.MapControlApi(plane, options);
        options.MapExtra?.Invoke(app);
        var boundPort = await SupervisorListener.StartAsync(app, "control API", bindAddress, port,
            "shift all ports with --port-offset N or use --ports dynamic", cancellationToken);
        return new ControlServer(app, new Uri($"http://{SupervisorListener.LocalHost(bindAddress)}:{boundPort}/"));
    }

    public async ValueTask DisposeAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
        try
        {
            await _app.StopAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            // Streams still open are cut; their clients reconnect or end with the run.
        }

        await _app.DisposeAsync();
    }
}

/// <summary>The run's verifier, for <see cref="CredentialAuthentication"/>.</summary>
internal sealed class CredentialAuthenticationOptions : AuthenticationSchemeOptions
{
    public CredentialVerifier? Verifier { get; set; }
}

/// <summary>
/// Authenticates a control API request by its credential (<c>Authorization: Bearer &lt;credential&gt;</c>, signed by
/// this run's key): the principal carries the node id, role, instance and scopes, and each route's policy asks for the
/// scope it needs. A request without a valid credential is challenged with a 401 problem; one whose credential lacks
/// the scope gets a 403 naming the caller.
/// </summary>
internal sealed class CredentialAuthentication(IOptionsMonitor<CredentialAuthenticationOptions> options, ILoggerFactory logger, UrlEncoder encoder)
    : AuthenticationHandler<CredentialAuthenticationOptions>(options, logger, encoder)
{
    public const string SchemeName = "Credential";
    public const string ScopeClaim = "scope";
    public const string InstanceClaim = "instance";

    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        if (Request.Headers.Authorization.Count == 0)
        {
            return Task.FromResult(AuthenticateResult.NoResult());
        }

        if (Options.Verifier?.Verify(Request, out var error) is not { } caller)
        {
            return Task.FromResult(AuthenticateResult.Fail("invalid credential"));
        }

        var claims = new List<Claim>
        {
            new(ClaimTypes.Name, caller.NodeId),
            new(ClaimTypes.Role, caller.Role),
            new(InstanceClaim, caller.Instance.ToString(System.Globalization.CultureInfo.InvariantCulture)),
        };
        claims.AddRange(caller.Scopes.Select(scope => new Claim(ScopeClaim, scope)));
        var identity = new ClaimsIdentity(claims, SchemeName);
        return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), SchemeName)));
    }

    protected override Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        Response.Headers.WWWAuthenticate = CredentialVerifier.Scheme;
        return TypedResults.Problem(
            statusCode: StatusCodes.Status401Unauthorized,
            title: "Missing or invalid credential",
            detail: $"send a credential of this run as 'Authorization: {CredentialVerifier.Scheme} <credential>'").ExecuteAsync(Context);
    }

    protected override Task HandleForbiddenAsync(AuthenticationProperties properties)
    {
        var user = Context.User;
        var scopes = string.Join(", ", user.FindAll(ScopeClaim).Select(c => c.Value));
        return TypedResults.Problem(statusCode: StatusCodes.Status403Forbidden, title: "Forbidden",
            detail: $"{user.Identity?.Name} ({user.FindFirst(ClaimTypes.Role)?.Value}) may not {Request.Method} {Request.Path}: its credential's scopes are {scopes}")
            .ExecuteAsync(Context);
    }
}

/// <summary>The control API's authorisation policies: one per scope (<see cref="CredentialScopes"/>).</summary>
internal static class ControlPolicies
{
    public const string Node = "scope:" + CredentialScopes.Node;
    public const string Outcome = "scope:" + CredentialScopes.Outcome;
    public const string Operator = "scope:" + CredentialScopes.Operator;
}

/// <summary>
/// The control API's routes. Authentication is not theirs: the pipeline's fallback policy requires a credential of
/// the run; a route that changes something requires its scope (node, outcome or operator).
/// </summary>
internal static class ControlApi
{
    public static IEndpointRouteBuilder MapControlApi(this IEndpointRouteBuilder routes, IControlPlane plane, ControlServerOptions options)
    {
        routes.MapGet(ControlRoutes.Nodes, () => TypedResults.Json(plane.Nodes(), ControlJson.Default.IReadOnlyListNodeStatus));
        routes.MapGet(ControlRoutes.Membership, () => TypedResults.Json(plane.Membership.Snapshot(), ControlJson.Default.MembershipSnapshot));
        // The feeds are plain RequestDelegates (they write the response themselves), held in typed locals so the
        // request delegate generator leaves them alone; the fallback authorization policy still covers them.
        RequestDelegate membershipEvents = context => StreamAsync(context, plane.Membership.Subscribe(), ControlJson.Default.MembershipEvent, options);
        RequestDelegate configEvents = context => StreamAsync(context, plane.Config.Subscribe(), ControlJson.Default.ConfigDocument, options);
        routes.MapGet(ControlRoutes.MembershipEvents, membershipEvents);
        routes.MapGet(ControlRoutes.Config, () => TypedResults.Json(plane.Config.Current, ControlJson.Default.ConfigDocument));
        routes.MapGet(ControlRoutes.ConfigEvents, configEvents);

        routes.MapPost(ControlRoutes.Finished, async Task<Results<Ok<FinishedReply>, ProblemHttpResult>> (HttpRequest request) =>
        {
            var (outcome, problem) = await JsonBody.ReadAsync(request, ControlJson.Default.RunOutcome, ControlLimits.MaxOutcomeBytes);
            return outcome is null ? problem! : TypedResults.Ok(new FinishedReply(plane.Finish(outcome)));
        }).RequireAuthorization(ControlPolicies.Outcome);

        routes.MapPost("/v1/nodes/{nodeId}/endpoints", async Task<Results<NoContent, ProblemHttpResult>> (string nodeId, HttpRequest request, ClaimsPrincipal caller) =>
        {
            // A node reports for itself only: another node's ports would steer the run's traffic (and credentials) elsewhere.
            if (caller.Identity?.Name != nodeId)
            {
                return JsonBody.Problem(StatusCodes.Status403Forbidden, "Not the caller's node",
                    $"{caller.Identity?.Name} may report its own endpoints only, not {nodeId}'s");
            }

            var (report, problem) = await JsonBody.ReadAsync(request, ControlJson.Default.EndpointsReport, ControlLimits.MaxBodyBytes);
            if (report is null)
            {
                return problem!;
            }

            if (report.Ports is null || report.Ports.Count == 0 || report.Ports.Any(p => p.Value is < 1 or > 65535 || p.Key.Length == 0))
            {
                return JsonBody.Problem(StatusCodes.Status400BadRequest, "Bad ports", "expected {\"ports\": {\"http\": 1..65535, ...}}");
            }

            var from = request.HttpContext.Connection.RemoteIpAddress is { IsIPv4MappedToIPv6: true } mapped
                ? mapped.MapToIPv4()
                : request.HttpContext.Connection.RemoteIpAddress;
            return plane.ReportEndpoints(nodeId, report.Ports, from) ? TypedResults.NoContent() : UnknownNode(nodeId);
        }).RequireAuthorization(ControlPolicies.Node);

        // The operator restarts any node; a node may ask for its own restart (the counter worker's /kill), never another's.
        routes.MapPost("/v1/nodes/{nodeId}/restart", Results<Accepted, ProblemHttpResult> (string nodeId, ClaimsPrincipal caller) =>
            !caller.HasClaim(CredentialAuthentication.ScopeClaim, CredentialScopes.Operator) && caller.Identity?.Name != nodeId
                ? JsonBody.Problem(StatusCodes.Status403Forbidden, "Forbidden",
                    $"{caller.Identity?.Name} ({caller.FindFirst(ClaimTypes.Role)?.Value}) may restart only itself; restarting {nodeId} takes the operator's credential")
                : plane.RestartNode(nodeId) switch
        {
            NodeActionResult.Accepted => TypedResults.Accepted((string?)null),
            NodeActionResult.UnknownNode => UnknownNode(nodeId),
            _ => JsonBody.Problem(StatusCodes.Status409Conflict, "Node not running",
                $"'{nodeId}' has no running process to restart (it has exited, failed, was stopped or is draining); GET {ControlRoutes.Nodes} shows its state"),
        });

        routes.MapPost("/v1/nodes/{nodeId}/stop", Results<Accepted, ProblemHttpResult> (string nodeId) =>
            plane.StopNode(nodeId) == NodeActionResult.Accepted ? TypedResults.Accepted((string?)null) : UnknownNode(nodeId))
            .RequireAuthorization(ControlPolicies.Operator);

        routes.MapPost("/v1/roles/{role}/scale", async Task<Results<Accepted, ProblemHttpResult>> (string role, HttpRequest request) =>
        {
            var (scale, problem) = await JsonBody.ReadAsync(request, ControlJson.Default.ScaleRequest, ControlLimits.MaxBodyBytes);
            if (scale is null)
            {
                return problem!;
            }

            if (scale.Count is < 0 or > ControlServer.MaxScale)
            {
                return JsonBody.Problem(StatusCodes.Status400BadRequest, "Bad count", $"count must be 0..{ControlServer.MaxScale}, not {scale.Count}");
            }

            var reply = plane.Scale(role, scale.Count);
            return reply.Result switch
            {
                ScaleResult.Accepted => TypedResults.Accepted((string?)null),
                ScaleResult.UnknownRole => JsonBody.Problem(StatusCodes.Status404NotFound, "Unknown role", $"the plan has no role '{role}'"),
                ScaleResult.InvalidPlan => JsonBody.Problem(StatusCodes.Status409Conflict, "Plan refused",
                    $"scaling '{role}' to {scale.Count} would give a plan that cannot run, so nothing changed: {reply.Problem}"),
                _ => JsonBody.Problem(StatusCodes.Status409Conflict, "Role not scalable", $"the app does not allow scaling '{role}'"),
            };
        }).RequireAuthorization(ControlPolicies.Operator);

        // A credential for a node started by hand (corral credential): the node scope only, never the outcome's, so
        // whoever holds the operator's credential still cannot speak for the run's result.
        routes.MapPost("/v1/nodes/{nodeId}/credential", Results<Ok<IssuedCredential>, ProblemHttpResult> (string nodeId) =>
            plane.IssueCredential(nodeId) is { } issued ? TypedResults.Ok(issued) : UnknownNode(nodeId))
            .RequireAuthorization(ControlPolicies.Operator);
        return routes;
    }

    private static ProblemHttpResult UnknownNode(string nodeId) =>
        JsonBody.Problem(StatusCodes.Status404NotFound, "Unknown node", $"no node '{nodeId}' in this run");

    /// <summary>
    /// Server-sent events, <c>data: &lt;json&gt;</c>: the state at subscription first, then each change, and a
    /// heartbeat comment whenever the feed was quiet for an interval. A subscriber that fell behind is dropped
    /// (the response ends); it reconnects and starts from a fresh snapshot.
    /// </summary>
    private static async Task StreamAsync<T>(HttpContext context, Subscription<T> subscription, JsonTypeInfo<T> json, ControlServerOptions options)
    {
        using (subscription)
        {
            await EventStream.WriteAsync(context, Frames(subscription, json, context.RequestAborted), options.Heartbeat, options.Time);
        }
    }

    private static async IAsyncEnumerable<string> Frames<T>(Subscription<T> subscription, JsonTypeInfo<T> json,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        yield return EventStream.Frame(JsonSerializer.Serialize(subscription.First, json));
        await foreach (var item in subscription.Events.ReadAllAsync(cancellationToken))
        {
            yield return EventStream.Frame(JsonSerializer.Serialize(item, json));
        }
    }
}
