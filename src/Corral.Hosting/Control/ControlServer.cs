using System.Net;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Corral.Hosting.Nodes;
using Corral.Hosting.Supervision;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Corral.Hosting.Control;

/// <summary>What the control API acts on: the supervisor, seen through the few operations the routes need.</summary>
internal interface IControlPlane
{
    IReadOnlyList<NodeStatus> Nodes();
    MembershipBoard Membership { get; }
    ConfigFeed Config { get; }

    /// <summary>Records the run's outcome; only the first report counts. Returns whether this one did.</summary>
    bool Finish(RunOutcome outcome);

    bool ReportEndpoints(string nodeId, IReadOnlyDictionary<string, int> ports);
    bool RestartNode(string nodeId);
    bool StopNode(string nodeId);
    ScaleResult Scale(string role, int count);
}

internal enum ScaleResult
{
    Accepted,
    UnknownRole,
    NotScalable,
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

    public static async Task<ControlServer> StartAsync(IControlPlane plane, string token, string bindAddress, int port,
        CancellationToken cancellationToken)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { ApplicationName = "corral-control" });
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(kestrel =>
        {
            kestrel.Listen(IPAddress.Parse(bindAddress), port);
            kestrel.AddServerHeader = false;
            kestrel.Limits.MaxRequestBodySize = 64 * 1024;
        });
        builder.Services.AddProblemDetails();
        builder.Services.ConfigureHttpJsonOptions(o => o.SerializerOptions.TypeInfoResolverChain.Insert(0, ControlJson.Default));
        var app = builder.Build();
        var boundPort = 0;
        app.Use(async (context, next) =>
        {
            if (Forbidden(context.Request, boundPort) is { } reason)
            {
                await TypedResults.Problem(statusCode: StatusCodes.Status403Forbidden, title: "Forbidden", detail: reason)
                    .ExecuteAsync(context);
                return;
            }

            await next(context);
        });
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.MapGroup("").RequireClusterToken(token).MapControlApi(plane);
        try
        {
            await app.StartAsync(cancellationToken);
        }
        catch (IOException e)
        {
            await app.DisposeAsync();
            throw new SupervisorException(
                $"the control API cannot listen on {bindAddress}:{port} ({e.Message}); shift all ports with --port-offset N or use --ports dynamic");
        }

        boundPort = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First()).Port;
        return new ControlServer(app, new Uri($"http://{bindAddress}:{boundPort}/"));
    }

    /// <summary>
    /// Loopback names only (a DNS-rebinding page would send its own name as Host), and a browser's Origin
    /// must be this very server, so another local page cannot drive the API with a stolen cookie later.
    /// </summary>
    internal static string? Forbidden(HttpRequest request, int port)
    {
        var host = request.Host.Host;
        if (host is not ("127.0.0.1" or "localhost" or "[::1]"))
        {
            return $"the control API answers only to Host 127.0.0.1 or localhost, not '{request.Host}'";
        }

        var origin = request.Headers.Origin.ToString();
        if (origin.Length == 0)
        {
            return null;
        }

        return Uri.TryCreate(origin, UriKind.Absolute, out var uri) && uri.Scheme == "http" &&
               uri.Host is "127.0.0.1" or "localhost" && uri.Port == port
            ? null
            : $"cross-origin requests are refused (Origin '{origin}')";
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

/// <summary>The control API's routes.</summary>
internal static class ControlApi
{
    public static IEndpointRouteBuilder MapControlApi(this IEndpointRouteBuilder routes, IControlPlane plane)
    {
        routes.MapGet(ControlRoutes.Nodes, () => TypedResults.Json(plane.Nodes(), ControlJson.Default.IReadOnlyListNodeStatus));
        routes.MapGet(ControlRoutes.Membership, () => TypedResults.Json(plane.Membership.Snapshot(), ControlJson.Default.MembershipSnapshot));
        routes.MapGet(ControlRoutes.MembershipEvents, (Delegate)((HttpContext context) => StreamAsync(context, plane.Membership.Subscribe(), ControlJson.Default.MembershipEvent)));
        routes.MapGet(ControlRoutes.Config, () => TypedResults.Json(plane.Config.Current, ControlJson.Default.ConfigDocument));
        routes.MapGet(ControlRoutes.ConfigEvents, (Delegate)((HttpContext context) => StreamAsync(context, plane.Config.Subscribe(), ControlJson.Default.ConfigDocument)));

        routes.MapPost(ControlRoutes.Finished, async Task<Results<Ok<FinishedReply>, ProblemHttpResult>> (HttpRequest request) =>
        {
            var (outcome, problem) = await JsonBody.ReadAsync(request, ControlJson.Default.RunOutcome);
            return outcome is null ? problem! : TypedResults.Ok(new FinishedReply(plane.Finish(outcome)));
        });

        routes.MapPost("/v1/nodes/{nodeId}/endpoints", async Task<Results<NoContent, ProblemHttpResult>> (string nodeId, HttpRequest request) =>
        {
            var (report, problem) = await JsonBody.ReadAsync(request, ControlJson.Default.EndpointsReport);
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

        routes.MapPost("/v1/nodes/{nodeId}/restart", Results<Accepted, ProblemHttpResult> (string nodeId) =>
            plane.RestartNode(nodeId) ? TypedResults.Accepted((string?)null) : UnknownNode(nodeId));

        routes.MapPost("/v1/nodes/{nodeId}/stop", Results<Accepted, ProblemHttpResult> (string nodeId) =>
            plane.StopNode(nodeId) ? TypedResults.Accepted((string?)null) : UnknownNode(nodeId));

        routes.MapPost("/v1/roles/{role}/scale", async Task<Results<Accepted, ProblemHttpResult>> (string role, HttpRequest request) =>
        {
            var (scale, problem) = await JsonBody.ReadAsync(request, ControlJson.Default.ScaleRequest);
            if (scale is null)
            {
                return problem!;
            }

            if (scale.Count is < 0 or > ControlServer.MaxScale)
            {
                return JsonBody.Problem(StatusCodes.Status400BadRequest, "Bad count", $"count must be 0..{ControlServer.MaxScale}, not {scale.Count}");
            }

            return plane.Scale(role, scale.Count) switch
            {
                ScaleResult.Accepted => TypedResults.Accepted((string?)null),
                ScaleResult.UnknownRole => JsonBody.Problem(StatusCodes.Status404NotFound, "Unknown role", $"the plan has no role '{role}'"),
                _ => JsonBody.Problem(StatusCodes.Status409Conflict, "Role not scalable", $"the app does not allow scaling '{role}'"),
            };
        });
        return routes;
    }

    private static ProblemHttpResult UnknownNode(string nodeId) =>
        JsonBody.Problem(StatusCodes.Status404NotFound, "Unknown node", $"no node '{nodeId}' in this run");

    /// <summary>Server-sent events, <c>data: &lt;json&gt;</c>: the state at subscription first, then each change.</summary>
    private static async Task<EmptyHttpResult> StreamAsync<T>(HttpContext context, Subscription<T> subscription, JsonTypeInfo<T> json)
    {
        using (subscription)
        {
            var response = context.Response;
            response.ContentType = "text/event-stream";
            response.Headers.CacheControl = "no-cache";
            var cancellationToken = context.RequestAborted;
            try
            {
                await WriteEventAsync(response, subscription.First, json, cancellationToken);
                await foreach (var item in subscription.Events.ReadAllAsync(cancellationToken))
                {
                    await WriteEventAsync(response, item, json, cancellationToken);
                }
            }
            catch (Exception e) when (e is OperationCanceledException or IOException)
            {
                // The client went away.
            }
        }

        return TypedResults.Empty;
    }

    private static async Task WriteEventAsync<T>(HttpResponse response, T item, JsonTypeInfo<T> json, CancellationToken cancellationToken)
    {
        await response.WriteAsync("data: " + JsonSerializer.Serialize(item, json) + "\n\n", cancellationToken);
        await response.Body.FlushAsync(cancellationToken);
    }
}

/// <summary>The reply to <c>finished</c>: whether this report was the first (and so the one that counts).</summary>
public sealed record FinishedReply(bool First);
