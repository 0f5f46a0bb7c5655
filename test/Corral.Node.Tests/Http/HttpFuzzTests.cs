using System.Text.Json;
using Corral.Node.Nodes;
using Corral.Testing.Fuzz;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace Corral.Node.Tests.Http;

/// <summary>The fuzz engine itself: it finds a route that throws and a node that dies, and passes a node that does neither.</summary>
public sealed class HttpFuzzTests : IAsyncLifetime
{
    private readonly TempFolder _folder = new("corral-fuzz-");
    private WebApplication _app = null!;

    public async Task InitializeAsync()
    {
        var context = new NodeContext
        {
            NodeId = "n-1", Role = "test.node", Token = TestNodeContext.Operator, Credentials = TestNodeContext.Issuer.Verifier, ControlUrl = new Uri("http://127.0.0.1:1"), RunId = "run-1",
            RunDirectory = _folder.Path, DataDirectory = _folder.Path, Ports = new Dictionary<string, int> { ["http"] = 0 },
        };
        _app = NodeHost.CreateBuilder(context).Build();
        _app.UseNodeDefaults();
        _app.Services.GetRequiredService<NodeReadiness>().MarkReady();
        // The bug the engine must find: a body parsed without a guard, so malformed JSON is an unhandled exception, a 500.
        _app.MapPost("/parse", async (HttpRequest request) =>
        {
            using var document = await JsonDocument.ParseAsync(request.Body);
            return TypedResults.Ok(document.RootElement.ValueKind.ToString());
        });
        _app.MapGet("/fine/{id}", (string id) => TypedResults.Ok(id));
        // A node that dies on a request: its host stops, as a crashed node's would.
        _app.MapDelete("/quit", () =>
        {
            _ = Task.Run(() => _app.StopAsync());
            return TypedResults.NoContent();
        });
        await _app.StartAsync();
    }

    [Fact]
    public async Task A_route_that_throws_on_a_malformed_body_is_reported_with_its_500()
    {
        var target = FuzzTarget.Of("self-test", _app) with { SampleBodies = ["""{"a":1}"""] };
        target = target with { Routes = target.Routes.Where(r => r.Pattern.RawText != "/quit").ToArray() };

        var report = await HttpFuzz.RunAsync(target, seed: 7, count: 300);

        Assert.Contains(report.Failures, f => f.Contains(" /parse") && f.Contains("→ 500"));
        Assert.ThrowsAny<Exception>(report.AssertClean);
    }

    [Fact]
    public async Task A_node_that_stops_answering_is_reported()
    {
        var target = FuzzTarget.Of("self-test", _app) with { SampleBodies = ["{}"] };
        target = target with { Routes = target.Routes.Where(r => r.Pattern.RawText == "/quit").ToArray() };

        var report = await HttpFuzz.RunAsync(target, seed: 7, count: 50);

        Assert.Contains(report.Failures, f => f.Contains("/healthz does not answer") || f.Contains("no answer"));
    }

    [Fact]
    public async Task Routes_that_answer_every_request_pass_with_the_same_cases_for_the_same_seed()
    {
        var target = FuzzTarget.Of("self-test", _app);
        target = target with { Routes = target.Routes.Where(r => r.Pattern.RawText is "/fine/{id}" or "/healthz" or "/readyz").ToArray() };

        var report = await HttpFuzz.RunAsync(target, seed: 11, count: 300);

        report.AssertClean();
        Assert.Equal(FuzzCases.Draw(target, 11, 50).Select(c => c.ToString()), FuzzCases.Draw(target, 11, 50).Select(c => c.ToString()));
        Assert.True(report.Statuses.Keys.Any(s => s is >= 400 and < 500) && report.Statuses.ContainsKey(200), "the cases reach both answers and refusals");
    }

    public async Task DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        _folder.Dispose();
    }
}
