using System.Diagnostics;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text.Json;
using Corral.Node.Security;
using Corral.Node.Http;
using Corral.Node.Nodes;
using Corral.Shootout.Game;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;

namespace Corral.Shootout.Server;

/// <summary>Body of <c>POST /register</c>; the node id may come in the <c>X-Corral-Node</c> header instead.</summary>
internal sealed record RegisterRequest
{
    public string? NodeId { get; init; }
}

/// <summary>Body of <c>POST /shoot</c>: the shooter names itself; its node id is checked against the identity's binding.</summary>
internal sealed record ShootRequest
{
    public string? Shooter { get; init; }
    public string? NodeId { get; init; }
}

/// <summary>Answer to <c>POST /register</c>: the identity bound to the node, with its current health, and the game.</summary>
internal sealed record RegisterResponse(string Cowboy, int Health, int Damage, bool Alive, GameSnapshot State);

/// <summary>Answer to <c>GET /winner</c>.</summary>
internal sealed record WinnerResponse(int Round, string Status, string? Winner, IReadOnlyList<RoundWinner> Winners);

/// <summary>The game server's HTTP API (seed 000's routes, made atomic and honest).</summary>
internal static class ShootoutApi
{
    /// <summary>The header a cowboy names its node with.</summary>
    public const string NodeHeader = "X-Corral-Node";

    public static IEndpointRouteBuilder MapShootout(this IEndpointRouteBuilder endpoints)
    {
        var engine = endpoints.ServiceProvider.GetRequiredService<GameEngine>();
        var node = endpoints.ServiceProvider.GetRequiredService<NodeContext>();
        var latency = new ShotLatency();

        // Only cowboys of this run register and shoot, each for its own node (the handlers check the node id).
        endpoints.MapPost("/register", (HttpRequest request) => RegisterAsync(engine, request)).RequireCaller(node.Credentials, ShootoutPlan.CowboyRole);
        endpoints.MapPost("/shoot", (HttpRequest request) => ShootAsync(engine, latency, request)).RequireCaller(node.Credentials, ShootoutPlan.CowboyRole);
        endpoints.MapGet("/stats", () => TypedResults.Ok(latency.Snapshot(engine)));
        endpoints.MapGet("/state", () => TypedResults.Ok(engine.Snapshot));
        endpoints.MapGet("/winner", () =>
        {
            var s = engine.Snapshot;
            return TypedResults.Ok(new WinnerResponse(s.Round, s.Status, s.Winners.LastOrDefault()?.Winner, s.Winners));
        });
        // A plain RequestDelegate (it writes the response itself), held in a typed local so the request delegate
        // generator leaves it alone.
        RequestDelegate events = context => EventStream.WriteAsync(context, StreamAsync(engine, context.RequestAborted),
            EventStream.DefaultHeartbeat, node.Time, cacheControl: "no-cache,no-store");
        endpoints.MapGet("/events", events);
        return endpoints;
    }

    private static async IAsyncEnumerable<string> StreamAsync(GameEngine engine, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        // Subscribe first, then send the state, so no event between the two is lost (a subscriber may see one twice: seq tells).
        await using var events = engine.Feed.SubscribeAsync(cancellationToken).GetAsyncEnumerator(cancellationToken);
        var moved = events.MoveNextAsync();
        yield return EventStream.Frame(JsonSerializer.Serialize(engine.Snapshot, ShootoutJson.Default.GameSnapshot), "state");
        while (await moved)
        {
            var e = events.Current;
            yield return EventStream.Frame(JsonSerializer.Serialize(e, GameEventJson.Default.GameEvent), e.Kind, e.Seq.ToString(CultureInfo.InvariantCulture));
            moved = events.MoveNextAsync();
        }
    }

    /// <summary>403 when the node named in the request is not the caller's own: a cowboy acts for its own node only.</summary>
    private static ProblemHttpResult? NotCallers(HttpRequest request, string nodeId) =>
        Caller.Of(request.HttpContext) is { } caller && caller.NodeId != nodeId ? Caller.NotYours(caller, nodeId) : null;

    private static async Task<Results<Ok<RegisterResponse>, ProblemHttpResult>> RegisterAsync(GameEngine engine, HttpRequest request)
    {
        string? nodeId;
        if (request.ContentLength is null or 0 && request.Headers[NodeHeader].ToString() is { Length: > 0 } header)
        {
            nodeId = header;
        }
        else
        {
            var (body, problem) = await JsonBody.ReadAsync(request, ShootoutJson.Default.RegisterRequest);
            if (problem is not null) return problem;
            nodeId = body!.NodeId ?? NodeFromHeader(request);
        }

        if (string.IsNullOrWhiteSpace(nodeId))
        {
            return JsonBody.Problem(StatusCodes.Status400BadRequest, "Missing node id", $"send {{\"nodeId\": \"cowboy-1\"}} or the {NodeHeader} header");
        }

        if (NotCallers(request, nodeId) is { } notYours) return notYours;

        RegisterOutcome outcome;
        try
        {
            outcome = await engine.RegisterAsync(nodeId);
        }
        catch (Exception e) when (e is InvalidOperationException or IOException or SqliteException)
        {
            return Unavailable(e);
        }

        if (outcome.Refusal is { } refused) return Problem(refused, request.HttpContext.Response);
        var state = engine.Snapshot;
        var cowboy = state.Cowboys.First(c => c.Name == outcome.Cowboy);
        return TypedResults.Ok(new RegisterResponse(cowboy.Name, cowboy.Health, cowboy.Damage, cowboy.Alive, state));
    }

    private static async Task<Results<Ok<ShotReport>, ProblemHttpResult>> ShootAsync(GameEngine engine, ShotLatency latency, HttpRequest request)
    {
        var started = Stopwatch.GetTimestamp();
        var (body, problem) = await JsonBody.ReadAsync(request, ShootoutJson.Default.ShootRequest);
        if (problem is not null) return problem;
        if (string.IsNullOrWhiteSpace(body!.Shooter))
        {
            return JsonBody.Problem(StatusCodes.Status400BadRequest, "Missing shooter", "send {\"shooter\": \"<your cowboy's name>\"}");
        }

        var nodeId = body.NodeId ?? NodeFromHeader(request);
        if (string.IsNullOrWhiteSpace(nodeId))
        {
            return JsonBody.Problem(StatusCodes.Status400BadRequest, "Missing node id", $"name your node in the {NodeHeader} header or as \"nodeId\"");
        }

        if (NotCallers(request, nodeId) is { } notYours) return notYours;

        ShotOutcome outcome;
        try
        {
            outcome = await engine.ShootAsync(body.Shooter, nodeId);
        }
        catch (Exception e) when (e is InvalidOperationException or IOException or SqliteException)
        {
            return Unavailable(e);
        }

        if (outcome.Report is not { } report)
        {
            return Problem(outcome.Refusal!, request.HttpContext.Response);
        }

        latency.Record(started);
        return TypedResults.Ok(report);
    }

    /// <summary>The server is stopping, or its store failed and it is about to restart: nothing was applied; try again shortly.</summary>
    private static ProblemHttpResult Unavailable(Exception e) =>
        JsonBody.Problem(StatusCodes.Status503ServiceUnavailable, "The game server is not taking shots", e.Message);

    private static string? NodeFromHeader(HttpRequest request) =>
        request.Headers[NodeHeader].ToString() is { Length: > 0 } value ? value : null;

    public static int StatusOf(Refusal reason) => reason switch
    {
        Refusal.UnknownShooter or Refusal.NotYourIdentity => StatusCodes.Status403Forbidden,
        Refusal.SameTick => StatusCodes.Status429TooManyRequests,
        Refusal.BadNodeId => StatusCodes.Status400BadRequest,
        _ => StatusCodes.Status409Conflict,
    };

    private static ProblemHttpResult Problem(Refused refused, HttpResponse response)
    {
        if (refused.RetryAfter is { } retry && retry > TimeSpan.Zero)
        {
            response.Headers.RetryAfter = Math.Max(1, (int)Math.Ceiling(retry.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
        }

        var extensions = new Dictionary<string, object?> { ["reason"] = Reason(refused.Reason) };
        if (refused.RetryAfter is { } after) extensions["retryAfterMs"] = Math.Max(0, after.TotalMilliseconds);
        if (refused.Round is { } round) extensions["round"] = round;
        return TypedResults.Problem(statusCode: StatusOf(refused.Reason), title: Title(refused.Reason), detail: refused.Detail, extensions: extensions);
    }

    /// <summary>The machine-readable reason in a refusal's problem details (<c>"reason": "shooter-dead"</c>).</summary>
    public static string Reason(Refusal reason) => reason switch
    {
        Refusal.UnknownShooter => "unknown-shooter",
        Refusal.NotYourIdentity => "not-your-identity",
        Refusal.RoundNotRunning => "round-not-running",
        Refusal.ShooterDead => "shooter-dead",
        Refusal.SameTick => "same-tick",
        Refusal.NoIdentityLeft => "no-identity-left",
        _ => "bad-node-id",
    };

    private static string Title(Refusal reason) => reason switch
    {
        Refusal.UnknownShooter => "Unknown cowboy",
        Refusal.NotYourIdentity => "Not your identity",
        Refusal.RoundNotRunning => "The round is not running",
        Refusal.ShooterDead => "Dead cowboys do not shoot",
        Refusal.SameTick => "One shot per tick",
        Refusal.NoIdentityLeft => "No identity left",
        _ => "Bad node id",
    };
}
