using System.Net.Http.Headers;
using System.Net.Http.Json;
using Corral.Node.Nodes;
using Corral.WorkQueue.Config;
using Corral.WorkQueue.Controller;
using Corral.WorkQueue.Store;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;

namespace Corral.WorkQueue.Tests.Reporter;

/// <summary>A real controller node in-process on a real port, with a real SQLite store, talking to a control API stub.</summary>
internal sealed class ControllerHarness : IAsyncDisposable
{
    private readonly TempFolder _folder = new();
    private ControlApiStub _control = null!;
    private WebApplication _app = null!;
    private ITaskStore _store = null!;

    private readonly Dictionary<string, HttpClient> _workers = new();

    /// <summary>A client with the credential of worker <c>w</c>.</summary>
    public HttpClient Http => Worker("w");
    public Uri Url { get; private set; } = null!;
    public QueueService Queue => _app.Services.GetRequiredService<QueueService>();
    public WebApplication App => _app;
    public WorkQueueConfig Config { get; private set; } = null!;

    /// <summary>A context for another node of this run (a worker), talking to the same control API stub.</summary>
    public NodeContext Context(string nodeId, string role) => _control.Context(nodeId, role, _folder.Path);

    /// <summary>The run folder the controller serves artifacts from.</summary>
    public string RunDirectory => Path.Combine(_folder.Path, "runs", TestNodeContext.RunId);

    public static async Task<ControllerHarness> StartAsync(int tasks)
    {
        var harness = new ControllerHarness();
        harness._control = await ControlApiStub.StartAsync();
        var context = harness._control.Context("controller", WorkQueuePlan.ControllerRole, harness._folder.Path);
        var config = new WorkQueueConfig
        {
            SpecList = harness._folder.Combine("map.json"),
            SpecRoot = harness._folder.Path,
            Command = ["true"],
            Lease = TimeSpan.FromSeconds(30),
            Tasks = Enumerable.Range(0, tasks).Select(i => new TaskDefinition
            {
                Key = $"task:g:{i}", Group = "g", Index = i, Ordinal = i, Spec = $"spec-{i}.spec.ts", Viewport = "desktop", Browser = "chrome",
            }).ToArray(),
        };
        harness.Config = config;
        harness._store = SqliteTaskStore.Open(harness._folder.Combine("workqueue.db"), context.RunId, ControllerNode.Rules(config));
        harness._app = ControllerNode.Build(context, config, harness._store);
        await harness.Queue.StartAsync();
        await harness._app.StartAsync();
        harness.Url = new Uri($"http://127.0.0.1:{harness._app.BoundPort()}/");
        return harness;
    }

    /// <summary>A client that calls with the credential of the worker node <paramref name="worker"/>.</summary>
    public HttpClient Worker(string worker)
    {
        lock (_workers)
        {
            if (!_workers.TryGetValue(worker, out var client))
            {
                client = new HttpClient { BaseAddress = Url };
                client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", TestNodeContext.CredentialOf(worker, WorkQueuePlan.WorkerRole));
                _workers[worker] = client;
            }

            return client;
        }
    }

    public async Task<ClaimReply> ClaimAsync(string worker)
    {
        using var response = await Worker(worker).PostAsJsonAsync("/api/claim", new ClaimRequest(worker), WorkQueueJson.Default.ClaimRequest);
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync(WorkQueueJson.Default.ClaimReply))!;
    }

    /// <summary>
    /// <c>/api/results</c> once it satisfies <paramref name="until"/>: the route serves the monitor's last look, which
    /// follows a change after a short pause, so a test waits for the state it expects (bounded) instead of reading once.
    /// </summary>
    public async Task<ResultsDocument> ResultsAsync(Func<ResultsDocument, bool> until)
    {
        using var bound = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        while (true)
        {
            using var response = await Http.GetAsync("/api/results", bound.Token);
            if (response.IsSuccessStatusCode
                && (await response.Content.ReadFromJsonAsync(WorkQueueJson.Default.ResultsDocument, bound.Token))! is var document && until(document))
            {
                return document;
            }

            await Task.Delay(20, bound.Token);
        }
    }

    /// <summary>Reports <paramref name="task"/> done in <paramref name="worker"/>'s name, sent with <paramref name="caller"/>'s credential (by default the worker's own).</summary>
    public Task<HttpResponseMessage> CompleteAsync(ClaimedTask task, string worker, AttemptResult result, string? caller = null) =>
        Worker(caller ?? worker).PostAsJsonAsync("/api/complete", new Completion
        {
            Key = task.Task.Key, Attempt = task.Attempt, Worker = worker, Result = result, ExitCode = result == AttemptResult.Passed ? 0 : 1, DurationMs = 1500,
        }, WorkQueueJson.Default.Completion);

    public async ValueTask DisposeAsync()
    {
        foreach (var client in _workers.Values) client.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
        await _store.DisposeAsync();
        await _control.DisposeAsync();
        _folder.Dispose();
    }
}
