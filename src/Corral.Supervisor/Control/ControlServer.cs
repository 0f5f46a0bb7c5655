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

    bool ReportEndpoints(string nodeId, IReadOnlyDictionary<string, int> ports);
    NodeActionResult RestartNode(string nodeId);
    NodeActionResult StopNode(string nodeId);
    ScaleReply Scale(string role, int count);
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

    /// <summary>Routes mapped after the control API's own; the same authentication applies to them.</summary>
    public Action<IEndpointRouteBuilder>? MapExtra { get; init; }
}

/// <summary>The supervisor's control API on loopback: the routes of <see cref="ControlRoutes"/>, token and Host/Origin checked.</summary>
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

    public static async Task<ControlServer> StartAsync(IControlPlane plane, string token, string bindAddress, int port,
        CancellationToken cancellationToken, ControlServerOptions? options = null)
    {
        options ??= new ControlServerOptions();
        // The largest body any route takes; each route reads its own, smaller limit through JsonBody.
        var builder = HttpServer.CreateBuilder("corral-control", bindAddress, port, ControlLimits.MaxOutcomeBytes);
        builder.Logging.ClearProviders();
        builder.Services.AddAuthentication(ClusterTokenAuthentication.SchemeName)
            .AddScheme<ClusterTokenOptions, ClusterTokenAuthentication>(ClusterTokenAuthentication.SchemeName, o => o.Token = token);
        // The fallback policy covers every endpoint with no policy of its own, however it was mapped
        // (a plain RequestDelegate included), and requests that match no endpoint at all.
        var requireToken = new AuthorizationPolicyBuilder(ClusterTokenAuthentication.SchemeName).RequireAuthenticatedUser().Build();
        builder.Services.AddAuthorizationBuilder().SetDefaultPolicy(requireToken).SetFallbackPolicy(requireToken);
        builder.Services.ConfigureHttpJsonOptions(o => o.SerializerOptions.TypeInfoResolverChain.Insert(0, ControlJson.Default));
        var app = builder.Build();
        var bound = IPAddress.Parse(bindAddress);
        app.UseHostGuard(bound, "the control API");
        app.Use(async (context, next) =>
        {
            if (HostGuard.OriginRefusal(context.Request, bound, context.Connection.LocalPort) is { } reason)
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
        return new ControlServer(app, new Uri($"http://{bindAddress}:{boundPort}/"));
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

/// <summary>The run's token, for <see cref="ClusterTokenAuthentication"/>.</summary>
internal sealed class ClusterTokenOptions : AuthenticationSchemeOptions
{
    public string Token { get; set; } = "";
}

/// <summary>
/// Authenticates a control API request by the run's token (<c>Authorization: Bearer &lt;token&gt;</c>, compared in
/// constant time); a request without it is challenged with a 401 problem.
/// </summary>
internal sealed class ClusterTokenAuthentication(IOptionsMonitor<ClusterTokenOptions> options, ILoggerFactory logger, UrlEncoder encoder)
    : AuthenticationHandler<ClusterTokenOptions>(options, logger, encoder)
{
    public const string SchemeName = "ClusterToken";

    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        if (Request.Headers.Authorization.Count == 0)
        {
            return Task.FromResult(AuthenticateResult.NoResult());
        }

        if (Options.Token.Length == 0 || !ClusterToken.IsPresent(Request, Options.Token))
        {
            return Task.FromResult(AuthenticateResult.Fail("wrong cluster token"));
        }

        var identity = new ClaimsIdentity([new Claim(ClaimTypes.Name, "cluster")], SchemeName);
        return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), SchemeName)));
    }

    protected override Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        Response.Headers.WWWAuthenticate = ClusterToken.Scheme;
        return TypedResults.Problem(
            statusCode: StatusCodes.Status401Unauthorized,
            title: "Missing or wrong cluster token",
            detail: $"send the run's token as 'Authorization: {ClusterToken.Scheme} <token>'").ExecuteAsync(Context);
    }

    protected override Task HandleForbiddenAsync(AuthenticationProperties properties) =>
        TypedResults.Problem(statusCode: StatusCodes.Status403Forbidden, title: "Forbidden", detail: "the token does not allow this").ExecuteAsync(Context);
}

/// <summary>The control API's routes. Authentication is not theirs: the pipeline's fallback policy requires the token.</summary>
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
        });

        routes.MapPost("/v1/nodes/{nodeId}/endpoints", async Task<Results<NoContent, ProblemHttpResult>> (string nodeId, HttpRequest request) =>
        {
            var (report, problem) = await JsonBody.ReadAsync(request, ControlJson.Default.EndpointsReport, ControlLimits.MaxBodyBytes);
            if (report is null)
            {
                return problem!;
            }

            if (report.Ports is null || report.Ports.Count == 0 || report.Ports.Any(p => p.Value is < 1 or > 65535 || p.Key.Length == 0))
            {
                return JsonBody.Problem(StatusCodes.Status400BadRequest, "Bad ports", "expected {\"ports\": {\"http\": 1..65535, ...}}");
            }

            return plane.ReportEndpoints(nodeId, report.Ports) ? TypedResults.NoContent() : UnknownNode(nodeId);
        });

        routes.MapPost("/v1/nodes/{nodeId}/restart", Results<Accepted, ProblemHttpResult> (string nodeId) => plane.RestartNode(nodeId) switch
        {
            NodeActionResult.Accepted => TypedResults.Accepted((string?)null),
            NodeActionResult.UnknownNode => UnknownNode(nodeId),
            _ => JsonBody.Problem(StatusCodes.Status409Conflict, "Node not running",
                $"'{nodeId}' has no running process to restart (it has exited, failed, was stopped or is draining); GET {ControlRoutes.Nodes} shows its state"),
        });

        routes.MapPost("/v1/nodes/{nodeId}/stop", Results<Accepted, ProblemHttpResult> (string nodeId) =>
            plane.StopNode(nodeId) == NodeActionResult.Accepted ? TypedResults.Accepted((string?)null) : UnknownNode(nodeId));

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
        });
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
