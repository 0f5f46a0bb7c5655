using System.Collections.Concurrent;
using System.Net;
using System.Text.Json;
using System.Threading.Channels;
using Corral.Node.Control;
using Corral.Node.Http;
using Corral.Node.Nodes;
using Corral.Node.Security;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Corral.Testing;

/// <summary>
/// The supervisor's control API as far as in-process nodes use it, on a real Kestrel port: it records the endpoints
/// nodes report (and serves them as the membership), streams the membership and config feeds the test writes, and
/// records the <c>finished</c> report.
/// </summary>
public sealed class ControlApiStub : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentDictionary<string, string> _roles = new();
    private readonly ConcurrentDictionary<string, TaskCompletionSource<IReadOnlyDictionary<string, int>>> _reports = new();
    private readonly TaskCompletionSource<RunOutcome> _finished = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _finishedCount;
    private int _sawToken;

    private ControlApiStub(WebApplication app) => _app = app;

    public Uri Url { get; private set; } = null!;

    /// <summary>The ports each node reported last, by node id.</summary>
    public ConcurrentDictionary<string, IReadOnlyDictionary<string, int>> Endpoints { get; } = new();

    /// <summary>What the membership feed streams: the test writes the events.</summary>
    public Channel<MembershipEvent> MembershipFeed { get; } = Channel.CreateUnbounded<MembershipEvent>();

    /// <summary>What the config feed streams: the test writes the documents.</summary>
    public Channel<ConfigDocument> ConfigFeed { get; } = Channel.CreateUnbounded<ConfigDocument>();

    /// <summary>Whether a feed was asked for with a credential of the test run.</summary>
    public bool SawToken => Volatile.Read(ref _sawToken) == 1;

    public Task<RunOutcome> Finished => _finished.Task;
    public int FinishedCount => Volatile.Read(ref _finishedCount);

    public static async Task<ControlApiStub> StartAsync()
    {
        // The kit's bootstrap, so the stub watches no config file either (a node-host test counts inotify instances).
        var builder = HttpServer.CreateBuilder("control-api-stub", IPAddress.Loopback.ToString(), 0, ControlLimits.MaxOutcomeBytes);
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var stub = new ControlApiStub(app);
        app.MapPost(ControlRoutes.Nodes + "/{id}/endpoints", async (string id, HttpRequest request) =>
        {
            var report = await JsonSerializer.DeserializeAsync<EndpointsReport>(request.Body, JsonSerializerOptions.Web);
            stub.Endpoints[id] = report!.Ports;
            stub.Reported(id).TrySetResult(report.Ports);
            return Results.Ok();
        });
        app.MapGet(ControlRoutes.Membership, () => Results.Json(stub.Membership(), JsonSerializerOptions.Web));
        app.MapGet(ControlRoutes.MembershipEvents, (HttpContext http) => stub.StreamAsync(http, stub.MembershipFeed.Reader));
        app.MapGet(ControlRoutes.ConfigEvents, (HttpContext http) => stub.StreamAsync(http, stub.ConfigFeed.Reader));
        app.MapPost(ControlRoutes.Finished, async (HttpRequest request) =>
        {
            if (TestNodeContext.Issuer.Verifier.Verify(request, out _) is not { } caller) return Results.Unauthorized();
            if (!caller.Has(CredentialScopes.Outcome)) return Results.StatusCode(StatusCodes.Status403Forbidden);
            var outcome = await JsonSerializer.DeserializeAsync<RunOutcome>(request.Body, JsonSerializerOptions.Web);
            Interlocked.Increment(ref stub._finishedCount);
            stub._finished.TrySetResult(outcome!);
            return Results.Ok();
        });
        await app.StartAsync();
        stub.Url = new Uri($"http://127.0.0.1:{app.BoundPort()}/");
        return stub;
    }

    /// <summary>A context for a node that talks to this stub; its role is what the membership shows for it.</summary>
    public NodeContext Context(string nodeId, string role, string dataDirectory, JsonElement config = default)
    {
        _roles[nodeId] = role;
        return TestNodeContext.Create(nodeId, role, dataDirectory, Url) with { Config = config };
    }

    /// <summary>The port a node reports, once it has (the first report, until <see cref="ForgetEndpoints"/>).</summary>
    public async Task<int> PortOf(string nodeId, string port = "http") => (await Reported(nodeId).Task)[port];

    /// <summary>Forgets a node's report, so <see cref="PortOf"/> waits for its next one (a restarted node).</summary>
    public void ForgetEndpoints(string nodeId) => _reports.TryRemove(nodeId, out _);

    private TaskCompletionSource<IReadOnlyDictionary<string, int>> Reported(string nodeId) =>
        _reports.GetOrAdd(nodeId, _ => new(TaskCreationOptions.RunContinuationsAsynchronously));

    private MembershipSnapshot Membership() => new(Endpoints.Count, Endpoints
        .Select(e => new Member(e.Key, _roles.GetValueOrDefault(e.Key, ""), e.Value.ToDictionary(p => p.Key, p => $"http://127.0.0.1:{p.Value}")))
        .ToArray());

    private async Task StreamAsync<T>(HttpContext http, ChannelReader<T> reader)
    {
        if (TestNodeContext.Issuer.Verifier.Verify(http.Request, out _) is not null) Volatile.Write(ref _sawToken, 1);
        http.Response.ContentType = "text/event-stream";
        await http.Response.StartAsync();
        try
        {
            await foreach (var item in reader.ReadAllAsync(http.RequestAborted))
            {
                await http.Response.WriteAsync($"data: {JsonSerializer.Serialize(item, JsonSerializerOptions.Web)}\n\n", http.RequestAborted);
                await http.Response.Body.FlushAsync(http.RequestAborted);
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    public async ValueTask DisposeAsync()
    {
        MembershipFeed.Writer.TryComplete();
        ConfigFeed.Writer.TryComplete();
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
