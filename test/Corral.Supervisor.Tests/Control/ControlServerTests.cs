using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Corral.Node.Control;
using Corral.Node.Feeds;
using Corral.Node.Http;
using Corral.Node.Security;
using Corral.Supervisor.Control;
using Corral.Supervisor.Supervision;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Routing.Patterns;
using Microsoft.Extensions.Time.Testing;

namespace Corral.Supervisor.Tests.Control;

/// <summary>The control API server on its own (a stub plane, no processes): authentication of every endpoint, feed heartbeats.</summary>
public sealed class ControlServerTests
{
    internal static readonly CredentialIssuer Issuer = CredentialIssuer.Create("run-1");
    internal static readonly string Token = Issuer.IssueOperator();
    private const string ExtraRoute = "/v1/test-only/plain";

    [Fact]
    public async Task A_route_mapped_as_a_plain_request_delegate_is_refused_without_the_token()
    {
        // A route mapped as a plain RequestDelegate, the kind an endpoint filter never saw: the fallback policy covers it.
        await using var server = await StartAsync(new ControlServerOptions
        {
            MapExtra = routes => routes.Map(ExtraRoute, (RequestDelegate)(context => context.Response.WriteAsync("unprotected"))),
        });
        Assert.Contains(server.Endpoints.OfType<RouteEndpoint>(), e => e.RoutePattern.RawText == ExtraRoute);
        await EveryEndpoint.RefusesStrangersAsync(server.Endpoints, server.Url, Token);

        using var anonymous = Client(server, null);
        using var authorised = Client(server, Token);
        // The same requests pass with the token, a loopback Host and this server as Origin.
        using var request = new HttpRequestMessage(HttpMethod.Get, ControlRoutes.Nodes);
        request.Headers.Add("Origin", server.Url.GetLeftPart(UriPartial.Authority));
        using var ok = await authorised.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        using var extra = await authorised.GetAsync(ExtraRoute);
        Assert.Equal("unprotected", await extra.Content.ReadAsStringAsync());
        using var unmapped = await anonymous.GetAsync("/v1/no-such-route");
        Assert.Equal(HttpStatusCode.Unauthorized, unmapped.StatusCode);
    }

    [Fact]
    public async Task Each_change_needs_its_scope_a_node_reports_only_for_itself_and_a_worker_cannot_report_the_outcome()
    {
        // Fails on the shared token of old: any holder could restart, stop, scale, report for any node and finish the run.
        var plane = new StubPlane();
        await using var server = await StartAsync(new ControlServerOptions(), plane);
        using var worker = Client(server, Issuer.IssueNode("worker-1", 1, "workqueue.worker", reportsOutcome: false));
        using var controller = Client(server, Issuer.IssueNode("controller", 1, "workqueue.controller", reportsOutcome: true));
        using var operatorClient = Client(server, Token);
        using var strangerRun = CredentialIssuer.Create("run-1");
        using var forged = Client(server, strangerRun.IssueOperator());
        var ports = new StringContent("{\"ports\":{\"http\":8101}}", null, "application/json");
        var outcome = new StringContent("{\"passed\":true,\"summary\":null}", null, "application/json");

        // A node reads, reports its own endpoints, restarts itself; nothing else.
        Assert.Equal(HttpStatusCode.OK, (await worker.GetAsync(ControlRoutes.Membership)).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await worker.PostAsync(ControlRoutes.Endpoints("worker-1"), ports)).StatusCode);
        await ExpectForbiddenAsync(worker, ControlRoutes.Endpoints("worker-2"), ports, "worker-1 may report its own endpoints only");
        await ExpectForbiddenAsync(worker, ControlRoutes.Finished, outcome, "worker-1 (workqueue.worker) may not POST /v1/finished");
        await ExpectForbiddenAsync(worker, ControlRoutes.Restart("worker-2"), null, "may restart only itself");
        Assert.Equal(HttpStatusCode.NotFound, (await worker.PostAsync(ControlRoutes.Restart("worker-1"), null)).StatusCode);
        await ExpectForbiddenAsync(worker, ControlRoutes.Stop("worker-2"), null, "scopes are node");
        await ExpectForbiddenAsync(worker, ControlRoutes.Scale("workqueue.worker"), new StringContent("{\"count\":9}", null, "application/json"), "scopes are node");
        await ExpectForbiddenAsync(worker, ControlRoutes.Credential("controller"), null, "scopes are node");

        // The operator acts on nodes but cannot speak for the run's outcome or for a node's endpoints.
        await ExpectForbiddenAsync(operatorClient, ControlRoutes.Finished, outcome, "operator (operator) may not POST /v1/finished");
        await ExpectForbiddenAsync(operatorClient, ControlRoutes.Endpoints("worker-1"), ports, "operator (operator) may not POST /v1/nodes/worker-1/endpoints");
        Assert.Equal(HttpStatusCode.NotFound, (await operatorClient.PostAsync(ControlRoutes.Restart("worker-2"), null)).StatusCode);
        Assert.Equal(0, plane.Finished);

        // A credential signed by another key (another run, or forged) opens nothing; the outcome role reports.
        Assert.Equal(HttpStatusCode.Unauthorized, (await forged.GetAsync(ControlRoutes.Nodes)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await controller.PostAsync(ControlRoutes.Finished, outcome)).StatusCode);
        Assert.Equal(1, plane.Finished);
    }

    private static async Task ExpectForbiddenAsync(HttpClient http, string route, HttpContent? body, string reason)
    {
        using var response = await http.PostAsync(route, body);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Forbidden, $"POST {route}: {(int)response.StatusCode} {text}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains(reason, text);
    }

    [Fact]
    public async Task A_quiet_feed_sends_a_heartbeat_every_interval()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UnixEpoch);
        await using var server = await StartAsync(new ControlServerOptions { Time = time, Heartbeat = TimeSpan.FromSeconds(5) });
        using var http = Client(server, Token);
        foreach (var route in new[] { ControlRoutes.MembershipEvents, ControlRoutes.ConfigEvents })
        {
            using var response = await http.GetAsync(route, HttpCompletionOption.ResponseHeadersRead);
            using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
            Assert.StartsWith("data: ", await reader.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(10)));
            Assert.Equal("", await reader.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(10)));

            // Nothing happens; only time passes. (Advancing in steps: the server arms its timer after its first write.)
            var next = reader.ReadLineAsync();
            for (var i = 0; i < 200 && !next.IsCompleted; i++)
            {
                time.Advance(TimeSpan.FromSeconds(1));
                await Task.WhenAny(next, Task.Delay(25));
            }

            Assert.Equal(EventStream.Heartbeat, await next.WaitAsync(TimeSpan.FromSeconds(10)));
            Assert.Equal("", await reader.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(10)));
        }
    }

    [Fact]
    public async Task A_subscriber_that_falls_behind_is_dropped_and_a_new_subscription_starts_from_a_fresh_snapshot()
    {
        var board = new MembershipBoard(capacity: 4);
        using var slow = board.Subscribe();
        for (var i = 1; i <= 5; i++)
        {
            board.Join(new Member($"w-{i}", "test.w", new Dictionary<string, string> { ["http"] = $"http://127.0.0.1:{9000 + i}" }));
        }

        var received = new List<MembershipEvent>();
        var error = await Assert.ThrowsAsync<SubscriberTooSlowException>(async () =>
        {
            await foreach (var e in slow.Events.ReadAllAsync())
            {
                received.Add(e);
            }
        });
        Assert.Contains("fell more than 4 events behind", error.Message);
        Assert.Equal(4, received.Count);

        using var fresh = board.Subscribe();
        Assert.Equal(5, fresh.First.Snapshot.Members.Count);
        Assert.Equal(5, fresh.First.Snapshot.Version);
        board.Leave("w-1", 1);
        Assert.True(fresh.Events.TryRead(out var left));
        Assert.Equal(MembershipChange.Left, left.Change);
    }

    [Fact]
    public async Task A_feed_client_that_falls_behind_is_cut_off_and_resubscribes_to_a_fresh_snapshot()
    {
        var board = new MembershipBoard(capacity: 1);
        await using var server = await StartAsync(new ControlServerOptions(), new StubPlane(board));
        using var client = new ControlClient(server.Url, Token);
        using var watching = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var snapshots = new List<MembershipSnapshot>();
        MembershipSnapshot? last = null;
        var subscribed = new TaskCompletionSource();
        const int members = 200;
        var reading = Task.Run(async () =>
        {
            await foreach (var e in client.WatchMembershipAsync(watching.Token))
            {
                if (e.Change == MembershipChange.Snapshot)
                {
                    snapshots.Add(e.Snapshot);
                    subscribed.TrySetResult();
                }

                last = e.Snapshot;
                if (e.Snapshot.Members.Count == members && snapshots.Count > 1)
                {
                    return;
                }
            }
        });
        await subscribed.Task.WaitAsync(TimeSpan.FromSeconds(30));

        // Far faster than one event per network write: with room for one event, this subscriber falls behind.
        for (var i = 1; i <= members; i++)
        {
            board.Join(new Member($"w-{i:D3}", "test.w", new Dictionary<string, string> { ["http"] = $"http://127.0.0.1:{10000 + i}" }));
        }

        await reading.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.True(snapshots.Count >= 2, "the client was never cut off and resubscribed");
        Assert.Equal(members, last!.Members.Count);
        Assert.Equal(members, last.Version);
    }

    [Fact]
    public async Task The_client_resubscribes_when_a_feed_goes_silent_past_its_heartbeat()
    {
        // A half-open connection: the server sends the snapshot and then nothing, not even a heartbeat.
        var connections = 0;
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        await using var app = builder.Build();
        app.MapGet(ControlRoutes.MembershipEvents, async (HttpContext context) =>
        {
            var n = Interlocked.Increment(ref connections);
            context.Response.ContentType = "text/event-stream";
            var snapshot = new MembershipEvent(MembershipChange.Snapshot, null, new MembershipSnapshot(n, []));
            await context.Response.WriteAsync("data: " + JsonSerializer.Serialize(snapshot, JsonSerializerOptions.Web) + "\n\n");
            await context.Response.Body.FlushAsync();
            await Task.Delay(Timeout.Infinite, context.RequestAborted).ContinueWith(_ => { }, TaskScheduler.Default);
        });
        await app.StartAsync();
        var url = new Uri(app.Urls.First());

        using var client = new ControlClient(url, Token) { FeedSilenceTimeout = TimeSpan.FromMilliseconds(400) };
        using var watching = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var versions = new List<long>();
        await foreach (var e in client.WatchMembershipAsync(watching.Token))
        {
            versions.Add(e.Snapshot.Version);
            if (versions.Count == 2)
            {
                break;
            }
        }

        Assert.Equal([1L, 2L], versions);
        Assert.Equal(2, connections);
    }

    internal static Task<ControlServer> StartAsync(ControlServerOptions options, StubPlane? plane = null) =>
        ControlServer.StartAsync(plane ?? new StubPlane(), Issuer.Verifier, "127.0.0.1", 0, CancellationToken.None, options);

    internal static HttpClient Client(ControlServer server, string? token) => Client(server.Url, token);

    internal static HttpClient Client(Uri url, string? token)
    {
        var http = new HttpClient { BaseAddress = url, Timeout = TimeSpan.FromSeconds(10) };
        if (token is not null)
        {
            http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        return http;
    }

    /// <summary>A plane with real feeds and no nodes.</summary>
    internal sealed class StubPlane(MembershipBoard? membership = null) : IControlPlane
    {
        public IReadOnlyList<NodeStatus> Nodes() => [];
        public MembershipBoard Membership { get; } = membership ?? new();
        public ConfigFeed Config { get; } = new(JsonDocument.Parse("{\"v\":1}").RootElement);
        private int _finished;
        public int Finished => Volatile.Read(ref _finished);
        public bool Finish(RunOutcome outcome) => Interlocked.Increment(ref _finished) == 1;
        public bool ReportEndpoints(string nodeId, IReadOnlyDictionary<string, int> ports, System.Net.IPAddress? from) => true;
        public IssuedCredential? IssueCredential(string nodeId) => null;
        public NodeActionResult RestartNode(string nodeId) => NodeActionResult.UnknownNode;
        public NodeActionResult StopNode(string nodeId) => NodeActionResult.UnknownNode;
        public ScaleReply Scale(string role, int count) => new(ScaleResult.UnknownRole);
    }
}

/// <summary>Checks every endpoint a server maps, with every method it accepts, against requests that must be refused.</summary>
internal static class EveryEndpoint
{
    public static async Task RefusesStrangersAsync(IReadOnlyList<Endpoint> all, Uri url, string token)
    {
        var endpoints = all.OfType<RouteEndpoint>().ToArray();
        Assert.Contains(endpoints, e => e.RoutePattern.RawText == ControlRoutes.MembershipEvents);
        Assert.True(endpoints.Length >= 10, $"only {endpoints.Length} endpoints found");
        using var anonymous = ControlServerTests.Client(url, null);
        using var wrong = ControlServerTests.Client(url, "not-the-token");
        using var authorised = ControlServerTests.Client(url, token);
        foreach (var endpoint in endpoints)
        {
            var path = Path(endpoint.RoutePattern);
            var methods = endpoint.Metadata.GetMetadata<IHttpMethodMetadata>()?.HttpMethods is { Count: > 0 } declared
                ? declared
                : ["GET", "POST", "PUT", "DELETE", "PATCH"];
            foreach (var method in methods)
            {
                var what = $"{method} {path} ({endpoint.DisplayName})";
                await ExpectAsync(anonymous, method, path, HttpStatusCode.Unauthorized, what + " without a token");
                await ExpectAsync(wrong, method, path, HttpStatusCode.Unauthorized, what + " with a wrong token");
                await ExpectAsync(authorised, method, path, HttpStatusCode.MisdirectedRequest, what + " with a foreign Host",
                    r => r.Headers.Host = "evil.example:7999");
                await ExpectAsync(authorised, method, path, HttpStatusCode.Forbidden, what + " with a foreign Origin",
                    r => r.Headers.Add("Origin", "http://evil.example"));
            }
        }
    }

    /// <summary>A concrete path for a route pattern: every parameter filled with a harmless value.</summary>
    private static string Path(RoutePattern pattern) =>
        "/" + string.Join("/", pattern.PathSegments.Select(segment => string.Concat(segment.Parts.Select(part => part switch
        {
            RoutePatternLiteralPart literal => literal.Content,
            RoutePatternParameterPart => "x-1",
            RoutePatternSeparatorPart separator => separator.Content,
            _ => "",
        }))));

    private static async Task ExpectAsync(HttpClient http, string method, string path, HttpStatusCode expected, string what,
        Action<HttpRequestMessage>? configure = null)
    {
        using var request = new HttpRequestMessage(new HttpMethod(method), path);
        if (method is "POST" or "PUT" or "PATCH")
        {
            request.Content = new StringContent("{}", null, "application/json");
        }

        configure?.Invoke(request);
        using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        Assert.True(expected == response.StatusCode, $"{what}: expected {(int)expected}, got {(int)response.StatusCode}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }
}
