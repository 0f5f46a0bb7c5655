using System.Net;
using System.Net.Http.Json;
using Corral.Node.Nodes;
using Corral.WorkQueue.Controller;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;

namespace Corral.WorkQueue.Tests.Reporter;

/// <summary>
/// The reporter's open routes answer from the snapshot the monitor publishes, never from the store: here no store
/// exists at all, and the routes still serve whatever the snapshot holds; the live feeds are capped.
/// </summary>
public sealed class ReporterApiTests : IAsyncLifetime
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(10);
    private readonly TempFolder _folder = new();
    private readonly ResultsSnapshot _snapshot = new();
    private ControlApiStub _control = null!;
    private WebApplication _app = null!;
    private HttpClient _http = null!;

    public async Task InitializeAsync()
    {
        _control = await ControlApiStub.StartAsync();
        var builder = NodeHost.CreateBuilder(_control.Context("controller", WorkQueuePlan.ControllerRole, _folder.Path));
        builder.AddJsonContext(WorkQueueJson.Default);
        builder.Services.AddSingleton(_snapshot);
        _app = builder.Build();
        _app.UseNodeDefaults();
        _app.MapReporter();
        await _app.StartAsync();
        _http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{_app.BoundPort()}/"), Timeout = Bound };
    }

    [Fact]
    public async Task Results_are_503_with_retry_after_before_the_first_snapshot_then_exactly_the_published_one()
    {
        using (var early = await _http.GetAsync(QueueRoutes.Results))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, early.StatusCode);
            Assert.Equal("application/problem+json", early.Content.Headers.ContentType?.MediaType);
            Assert.NotNull(early.Headers.RetryAfter);
        }

        _snapshot.Publish(Document("run-from-the-snapshot", done: 3));

        var results = (await _http.GetFromJsonAsync(QueueRoutes.Results, WorkQueueJson.Default.ResultsDocument))!;
        Assert.Equal(("run-from-the-snapshot", 3), (results.RunId, results.Progress.Done));
    }

    [Fact]
    public async Task A_live_feed_sends_each_published_snapshot()
    {
        _snapshot.Publish(Document("run", done: 1));
        using var response = await _http.GetAsync(QueueRoutes.Events, HttpCompletionOption.ResponseHeadersRead);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());

        Assert.Contains("\"done\":1", await DataLineAsync(reader));
        _snapshot.Publish(Document("run", done: 2));
        Assert.Contains("\"done\":2", await DataLineAsync(reader));
    }

    [Fact]
    public async Task Past_the_cap_a_live_feed_is_503_with_retry_after_and_a_closed_one_frees_its_place()
    {
        _snapshot.Publish(Document("run", done: 0));
        var open = new List<(HttpClient Client, HttpResponseMessage Response)>();
        try
        {
            for (var i = 0; i < ResultsSnapshot.MaxSubscribers; i++)
            {
                // One connection per feed: a client shares a few connections, and each feed holds one for its life.
                var client = new HttpClient { BaseAddress = _http.BaseAddress, Timeout = Bound };
                var response = await client.GetAsync(QueueRoutes.Events, HttpCompletionOption.ResponseHeadersRead);
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
                open.Add((client, response));
            }

            using (var refused = await _http.GetAsync(QueueRoutes.Events, HttpCompletionOption.ResponseHeadersRead))
            {
                Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
                Assert.NotNull(refused.Headers.RetryAfter);
                Assert.Contains("at most 64 live feeds", await refused.Content.ReadAsStringAsync());
            }

            open[0].Response.Dispose();
            open[0].Client.Dispose();
            using var bound = new CancellationTokenSource(Bound);
            while (true)
            {
                using var again = await _http.GetAsync(QueueRoutes.Events, HttpCompletionOption.ResponseHeadersRead, bound.Token);
                if (again.StatusCode == HttpStatusCode.OK) break;
                await Task.Delay(20, bound.Token);
            }
        }
        finally
        {
            foreach (var (client, response) in open)
            {
                response.Dispose();
                client.Dispose();
            }
        }
    }

    private static async Task<string> DataLineAsync(StreamReader reader)
    {
        using var bound = new CancellationTokenSource(Bound);
        while (await reader.ReadLineAsync(bound.Token) is { } line)
        {
            if (line.StartsWith("data:", StringComparison.Ordinal)) return line;
        }

        throw new EndOfStreamException("the feed ended");
    }

    private static ResultsDocument Document(string runId, int done) =>
        new(runId, new ProgressView { Total = 5, Done = done }, []);

    public async Task DisposeAsync()
    {
        _http.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
        await _control.DisposeAsync();
        _folder.Dispose();
    }
}
