using System.Collections.Concurrent;
using System.Net;
using System.Text.Json;
using Corral.Hosting.Control;
using Corral.Hosting.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Corral.Shootout.Tests.Helpers;

/// <summary>
/// A tiny stand-in for the supervisor's control API on a real Kestrel port: it records reported endpoints
/// (and serves them as the membership) and the <c>finished</c> report.
/// </summary>
public sealed class ControlStub : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentDictionary<string, int> _ports = new();
    private readonly TaskCompletionSource<RunOutcome> _finished = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly ConcurrentDictionary<string, TaskCompletionSource<int>> _endpointWaiters = new();
    private int _finishedCount;

    public const string Token = "test-token";

    private ControlStub(WebApplication app) => _app = app;

    public Uri Url { get; private set; } = null!;
    public Task<RunOutcome> Finished => _finished.Task;
    public int FinishedCount => _finishedCount;

    public Task<int> PortOf(string nodeId) => _endpointWaiters.GetOrAdd(nodeId, _ => new(TaskCreationOptions.RunContinuationsAsynchronously)).Task;

    public static async Task<ControlStub> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseKestrel(k => k.Listen(IPAddress.Loopback, 0));
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var stub = new ControlStub(app);
        app.MapPost("/v1/nodes/{id}/endpoints", async (string id, HttpRequest request) =>
        {
            var report = await JsonSerializer.DeserializeAsync<EndpointsReport>(request.Body, JsonSerializerOptions.Web);
            var port = report!.Ports["http"];
            stub._ports[id] = port;
            stub._endpointWaiters.GetOrAdd(id, _ => new(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult(port);
            return Results.Ok();
        });
        app.MapGet("/v1/membership", () => Results.Json(new MembershipSnapshot(stub._ports.Count,
            stub._ports.Select(p => new Member(p.Key, p.Key == "server" ? "shootout.server" : "shootout.cowboy",
                new Dictionary<string, string> { ["http"] = $"http://127.0.0.1:{p.Value}" })).ToArray()), JsonSerializerOptions.Web));
        app.MapPost("/v1/finished", async (HttpRequest request) =>
        {
            if (!ClusterToken.IsPresent(request, Token)) return Results.Unauthorized();
            var outcome = await JsonSerializer.DeserializeAsync<RunOutcome>(request.Body, JsonSerializerOptions.Web);
            Interlocked.Increment(ref stub._finishedCount);
            stub._finished.TrySetResult(outcome!);
            return Results.Ok();
        });
        await app.StartAsync();
        stub.Url = new Uri($"http://127.0.0.1:{app.BoundPort()}");
        return stub;
    }

    public NodeContext Context(string nodeId, string role, string dataDirectory, JsonElement config, string runId = "run-1", TimeProvider? time = null) => new()
    {
        NodeId = nodeId,
        Role = role,
        Token = Token,
        ControlUrl = Url,
        RunId = runId,
        RunDirectory = Path.Combine(dataDirectory, "runs", runId),
        DataDirectory = dataDirectory,
        Ports = new Dictionary<string, int> { ["http"] = 0 },
        Config = config,
        Time = time ?? TimeProvider.System,
    };

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
