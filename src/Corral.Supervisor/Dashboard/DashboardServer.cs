using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using Corral.Node.Security;
using Corral.Node.Control;
using Corral.Node.Dashboard;
using Corral.Node.Feeds;
using Corral.Node.Http;
using Corral.Node.Nodes;
using Corral.Supervisor.Control;
using Corral.Supervisor.Supervision;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Corral.Supervisor.Dashboard;

/// <summary>
/// The run's web page on loopback: the page and its script (embedded), a server-sent event feed of the node table,
/// logs and outcome (<see cref="DashboardFeed"/>), node actions forwarded to the control API (so its rules and 409
/// reasons hold here too), and the app panel's node routes proxied, so the browser talks to this origin only.
/// </summary>
internal sealed class DashboardServer : IAsyncDisposable
{
    private static readonly TimeSpan NodesThrottle = TimeSpan.FromMilliseconds(100);
    private readonly WebApplication _app;
    private readonly IDashboardRun _run;
    private readonly DashboardFeed _feed;
    private readonly OneTimeCodes _codes;
    private readonly TimeProvider _time;
    private readonly CancellationTokenSource _stopping = new();
    private readonly Task _watching;

    private DashboardServer(WebApplication app, IDashboardRun run, DashboardFeed feed, OneTimeCodes codes, TimeProvider time, int port)
    {
        _app = app;
        _run = run;
        _feed = feed;
        _codes = codes;
        _time = time;
        Port = port;
        _watching = WatchNodesAsync(_stopping.Token);
    }

    public int Port { get; }

    /// <summary>A fresh one-time link to the page.</summary>
    public string NewLink() => $"http://{LinkHost}:{Port}/?code={_codes.Issue()}";

    /// <summary>The host in the page's links: where a browser on this machine reaches the dashboard.</summary>
    private string LinkHost { get; init; } = "127.0.0.1";

    public static async Task<DashboardServer> StartAsync(IDashboardRun run, DashboardFeed feed, DashboardPanel? panel, string bindAddress,
        int port, TimeProvider time, CancellationToken cancellationToken, IReadOnlyList<string>? hostNames = null)
    {
        var builder = HttpServer.CreateBuilder("corral-dashboard", bindAddress, port, 64 * 1024);
        builder.Logging.ClearProviders();
        builder.Services.ConfigureHttpJsonOptions(o => o.SerializerOptions.TypeInfoResolverChain.Insert(0, DashboardJson.Default));
        var app = builder.Build();
        var codes = new OneTimeCodes(time);
        var access = new DashboardAccess(codes, run.Token, ListenerNames.Of(IPAddress.Parse(bindAddress), hostNames));
        var boundPort = 0;
        app.Use(async (context, next) =>
        {
            var headers = context.Response.Headers;
            headers.CacheControl = "no-store";
            headers.XContentTypeOptions = "nosniff";
            headers.XFrameOptions = "DENY";
            // No Referer: the first page's address carries the one-time code.
            headers["Referrer-Policy"] = "no-referrer";
            headers.ContentSecurityPolicy = "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'";
            var decision = IsCodeExchange(context.Request) ? ExchangeHostOnly(context.Request, boundPort, access) : access.Check(context.Request, boundPort);
            if (!decision.IsAllowed)
            {
                await TypedResults.Problem(statusCode: decision.Status, title: decision.Status switch
                {
                    StatusCodes.Status401Unauthorized => "Not signed in",
                    StatusCodes.Status421MisdirectedRequest => "Misdirected request",
                    _ => "Forbidden",
                }, detail: decision.Reason)
                    .ExecuteAsync(context);
                return;
            }

            await next(context);
        });
        app.UseExceptionHandler();
        app.UseRouting();
        var control = new HttpClient(new SocketsHttpHandler { UseProxy = false, ConnectTimeout = TimeSpan.FromSeconds(2) })
        {
            BaseAddress = run.ControlUrl,
            Timeout = TimeSpan.FromSeconds(10),
        };
        control.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue(CredentialVerifier.Scheme, run.Token);
        var proxy = new DashboardProxy(run, panel);
        app.MapDashboard(run, feed, codes, panel, control, proxy, () => boundPort, time);
        boundPort = await SupervisorListener.StartAsync(app, "dashboard", bindAddress, port,
            "choose another with --dashboard PORT, shift all ports with --port-offset N, or use --no-dashboard", cancellationToken);
        app.Lifetime.ApplicationStopping.Register(() => { control.Dispose(); proxy.Dispose(); });
        feed.Hello(new DashboardHello(run.RunId, run.App, panel?.Title));
        return new DashboardServer(app, run, feed, codes, time, boundPort) { LinkHost = SupervisorListener.LocalHost(bindAddress) };
    }

    private static bool IsCodeExchange(HttpRequest request) =>
        request.Path == "/" && HttpMethods.IsGet(request.Method) && request.Query.ContainsKey("code");

    private static AccessDecision ExchangeHostOnly(HttpRequest request, int port, DashboardAccess access)
    {
        // The code is the credential here; the Host rule still applies.
        var decision = access.Check(request, port);
        return decision.Status == StatusCodes.Status401Unauthorized ? AccessDecision.Allowed : decision;
    }

    /// <summary>Publishes the node table on every change, at most every <see cref="NodesThrottle"/>, until the run ends.</summary>
    private async Task WatchNodesAsync(CancellationToken cancellationToken)
    {
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                var changed = _run.Changed;
                PublishNodes();
                await changed.WaitAsync(cancellationToken);
                await Task.Delay(NodesThrottle, _time, cancellationToken);
            }
        }
        catch (OperationCanceledException)
        {
            // The run is over.
        }
    }

    private void PublishNodes() => _feed.Nodes(DashboardApi.NodesView(_run, _feed, _time));

    /// <summary>The run has ended: the page shows how, before the supervisor exits.</summary>
    public void Ended(DashboardRun run)
    {
        PublishNodes();
        _feed.Run(run);
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();
        await _watching;
        PublishNodes();
        _feed.Complete();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
        try
        {
            await _app.StopAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            // Streams still open are cut.
        }

        await _app.DisposeAsync();
        _stopping.Dispose();
    }
}

/// <summary>The dashboard's routes; access rules are the pipeline's (<see cref="DashboardAccess"/>), not theirs.</summary>
internal static class DashboardApi
{
    private static readonly TimeSpan Heartbeat = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan ReconnectDelay = TimeSpan.FromSeconds(1);

    public static DashboardNodes NodesView(IDashboardRun run, DashboardFeed feed, TimeProvider time) => new(
        run.Nodes().Select(n => new DashboardNode
        {
            NodeId = n.NodeId,
            Role = n.Role,
            State = n.State,
            Pid = n.Pid,
            Port = (n.Urls.GetValueOrDefault("http") ?? n.Urls.Values.FirstOrDefault()) is { } url && Uri.TryCreate(url, UriKind.Absolute, out var uri) ? uri.Port : null,
            Restarts = n.Restarts,
            StartedAt = n.StartedAt,
            LastLine = feed.LastLine(n.NodeId),
        }).ToArray(),
        run.Roles().Select(r => new DashboardRole(r.Role, r.Count, r.Scalable)).ToArray(),
        time.GetUtcNow());

    public static void MapDashboard(this IEndpointRouteBuilder routes, IDashboardRun run, DashboardFeed feed, OneTimeCodes codes,
        DashboardPanel? panel, HttpClient control, DashboardProxy proxy, Func<int> port, TimeProvider time)
    {
        var panelScript = panel?.ReadScript() ?? "";
        routes.MapGet("/", (HttpContext context) =>
        {
            if (context.Request.Query["code"].ToString() is { Length: > 0 } code)
            {
                if (codes.Redeem(code) is not { } session)
                {
                    return (IResult)TypedResults.Problem(statusCode: StatusCodes.Status401Unauthorized, title: "Link used or expired",
                        detail: "a one-time link works once, for 5 minutes; get a fresh one with 'corral dashboard <run-id>'");
                }

                context.Response.Cookies.Append(DashboardAccess.CookieName(port()), session, new CookieOptions
                {
                    HttpOnly = true,
                    SameSite = SameSiteMode.Strict,
                    Path = "/",
                    IsEssential = true,
                });
                // The code leaves the address bar (and the history) at once.
                return TypedResults.Redirect("/");
            }

            return Asset("index.html", "text/html; charset=utf-8");
        });
        routes.MapGet("/dashboard.js", () => Asset("dashboard.js", "text/javascript; charset=utf-8"));
        routes.MapGet("/dashboard.css", () => Asset("dashboard.css", "text/css; charset=utf-8"));
        routes.MapGet("/panel.js", () => TypedResults.Text(panelScript, "text/javascript; charset=utf-8"));
        routes.MapGet("/api/nodes", () => TypedResults.Json(NodesView(run, feed, time), DashboardJson.Default.DashboardNodes));
        routes.MapGet("/api/logs", (string? node) => TypedResults.Json(feed.Recent(node), DashboardJson.Default.IReadOnlyListDashboardLogLine));

        // Plain RequestDelegates (they write the response themselves), held in typed locals so the request delegate
        // generator leaves them alone.
        RequestDelegate events = context => StreamAsync(context, feed, time);
        RequestDelegate restart = context => ForwardAsync(context, control, ControlRoutes.Restart(RouteValue(context, "nodeId")), null);
        RequestDelegate stop = context => ForwardAsync(context, control, ControlRoutes.Stop(RouteValue(context, "nodeId")), null);
        RequestDelegate scale = context => ScaleAsync(context, run, control);
        RequestDelegate forward = proxy.ForwardAsync;
        routes.MapGet("/api/events", events);
        routes.MapPost("/api/nodes/{nodeId}/restart", restart);
        routes.MapPost("/api/nodes/{nodeId}/stop", stop);
        routes.MapPost("/api/roles/{role}/scale", scale);
        routes.MapMethods("/api/nodes/{nodeId}/proxy/{**path}", ["GET", "PUT", "POST"], forward);
    }

    private static IResult Asset(string name, string contentType)
    {
        var stream = typeof(DashboardApi).Assembly.GetManifestResourceStream("Corral.Dashboard." + name)
            ?? throw new InvalidOperationException($"the dashboard's {name} is not embedded");
        return TypedResults.Stream(stream, contentType);
    }

    internal static string RouteValue(HttpContext context, string name) => context.Request.RouteValues[name]?.ToString() ?? "";

    private static async Task ScaleAsync(HttpContext context, IDashboardRun run, HttpClient control)
    {
        var role = RouteValue(context, "role");
        var (body, problem) = await JsonBody.ReadAsync(context.Request, DashboardJson.Default.DashboardScale);
        if (body is null)
        {
            await problem!.ExecuteAsync(context);
            return;
        }

        if (body.Delta is not (1 or -1))
        {
            await JsonBody.Problem(StatusCodes.Status400BadRequest, "Bad delta", $"delta must be 1 or -1, not {body.Delta}").ExecuteAsync(context);
            return;
        }

        if (run.Roles().FirstOrDefault(r => r.Role == role) is not { } current)
        {
            await JsonBody.Problem(StatusCodes.Status404NotFound, "Unknown role", $"the plan has no role '{role}'").ExecuteAsync(context);
            return;
        }

        await ForwardAsync(context, control, ControlRoutes.Scale(role),
            JsonContent.Create(new ScaleRequest(Math.Max(0, current.Count + body.Delta)), DashboardJson.Default.ScaleRequest));
    }

    /// <summary>Sends the action to the control API and answers with its status and body (a 409's reason included).</summary>
    private static async Task ForwardAsync(HttpContext context, HttpClient control, string route, HttpContent? content)
    {
        HttpResponseMessage reply;
        try
        {
            reply = await control.PostAsync(route, content, context.RequestAborted);
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            await JsonBody.Problem(StatusCodes.Status503ServiceUnavailable, "Control API unavailable", e.Message).ExecuteAsync(context);
            return;
        }

        using (reply)
        {
            context.Response.StatusCode = (int)reply.StatusCode;
            if (reply.Content.Headers.ContentType is { } type)
            {
                context.Response.ContentType = type.ToString();
            }

            await reply.Content.CopyToAsync(context.Response.Body, context.RequestAborted);
        }
    }

    /// <summary>The page's feed: the state now in one frame, then each change, batched while the page keeps up.</summary>
    private static async Task StreamAsync(HttpContext context, DashboardFeed feed, TimeProvider time)
    {
        using var subscription = feed.Subscribe();
        // no-store, as every dashboard answer (the pipeline sets it; the stream must not undo it).
        await EventStream.WriteAsync(context, Frames(subscription, context.RequestAborted), Heartbeat, time, cacheControl: "no-store");
    }

    private static async IAsyncEnumerable<string> Frames(Subscription<string> subscription, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        yield return EventStream.Retry(ReconnectDelay) + subscription.First;
        var events = subscription.Events;
        while (await events.WaitToReadAsync(cancellationToken))
        {
            var batch = new StringBuilder();
            while (batch.Length < 256 * 1024 && events.TryRead(out var frame))
            {
                batch.Append(frame);
            }

            yield return batch.ToString();
        }
    }
}
