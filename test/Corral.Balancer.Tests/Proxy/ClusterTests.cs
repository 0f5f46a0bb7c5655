using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using System.Threading.Channels;
using Corral.Balancer.Config;
using Corral.Balancer.Proxy;
using Corral.Balancer.Tests.Helpers;
using Corral.Balancer.Worker;
using Corral.Hosting.Control;
using Corral.Hosting.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Corral.Balancer.Tests.Proxy;

/// <summary>Real workers behind a real balancer, all in-process on real ports.</summary>
public sealed class ClusterTests
{
    private static async Task<WorkerNode[]> WorkersAsync(string directory, int count, double failure, TimeSpan delay) =>
        await Task.WhenAll(Enumerable.Range(1, count).Select(i => WorkerNode.StartAsync(
            TestNodes.Context($"worker-{i}", BalancerPlanner.WorkerRole, directory),
            new BalancerConfig { FailurePercent = failure, AvgDelay = delay })));

    private static BalancerConfig LbConfig(Func<BalancerConfig, BalancerConfig>? adjust = null)
    {
        var config = new BalancerConfig
        {
            HealthCheck = new HealthCheckConfig { Interval = TimeSpan.FromMilliseconds(100), Timeout = TimeSpan.FromSeconds(1), UnhealthyAfter = 3 },
        };
        return adjust is null ? config : adjust(config);
    }

    [Fact]
    public async Task AWorkerGoingDownUnderSteadyLoadCostsNoClientAnError()
    {
        var directory = TestNodes.TempDirectory();
        var workers = await WorkersAsync(directory, 3, failure: 0, delay: TimeSpan.FromMilliseconds(1));
        try
        {
            await using var lb = await Balancers.StartAsync(LbConfig(), workers.Select(w => $"http://127.0.0.1:{w.ServicePort}").ToArray());
            using var client = TestNodes.Client(lb.Port);
            using var admin = TestNodes.Client(workers[1].AdminPort);
            admin.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", TestNodes.Token);

            var failures = 0;
            var served = 0;
            using var stop = new CancellationTokenSource();
            var load = Task.WhenAll(Enumerable.Range(0, 8).Select(async _ =>
            {
                while (!stop.IsCancellationRequested)
                {
                    using var response = await client.GetAsync("/api/v1/hello");
                    if (response.IsSuccessStatusCode) Interlocked.Increment(ref served);
                    else Interlocked.Increment(ref failures);
                }
            }));

            await TestNodes.WaitUntilAsync(() => Volatile.Read(ref served) > 200, what: "load to flow");
            // The service port closes: every new connection to it is refused, as after a SIGKILL.
            using (var response = await admin.PutAsync("/faults", JsonContent.Create(new { outage = "refuse" })))
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var mark = Volatile.Read(ref served);
            await TestNodes.WaitUntilAsync(() => Volatile.Read(ref served) > mark + 500, what: "load to flow past the outage");
            var down = lb.Pool.All.Single(b => b.Id == "worker-2");
            Assert.False(down.IsAvailable(DateTimeOffset.UtcNow));

            // Outage over: active checks bring it back after two good answers.
            using (var response = await admin.PutAsync("/faults", JsonContent.Create(new { outage = "none" })))
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            await TestNodes.WaitUntilAsync(() => down.IsAvailable(DateTimeOffset.UtcNow), TimeSpan.FromSeconds(15), "worker-2 back in rotation");
            await stop.CancelAsync();
            await load;
            Assert.Equal(0, failures);
        }
        finally
        {
            foreach (var worker in workers) await worker.DisposeAsync();
        }
    }

    [Fact]
    public async Task RetryingInjected500sLowersTheClientVisibleFailureRate()
    {
        var directory = TestNodes.TempDirectory();
        var workers = await WorkersAsync(directory, 3, failure: 12, delay: TimeSpan.Zero);
        try
        {
            await using var lb = await Balancers.StartAsync(LbConfig(c => c with { Retries = c.Retries with { On5xx = true, Attempts = 2 } }),
                workers.Select(w => $"http://127.0.0.1:{w.ServicePort}").ToArray());
            using var client = TestNodes.Client(lb.Port);
            // 16 clients × 63 requests (1,008), so the load is steady rather than one burst of a thousand connections.
            var codes = (await Task.WhenAll(Enumerable.Range(0, 16).Select(async _ =>
            {
                var mine = new List<int>();
                for (var i = 0; i < 63; i++)
                {
                    using var response = await client.GetAsync("/api/v1/hello");
                    mine.Add((int)response.StatusCode);
                }

                return mine;
            }))).SelectMany(c => c).ToArray();

            // Without retries 12% would fail; with two retries about 0.12³ ≈ 0.17%.
            Assert.InRange(codes.Count(c => c == 500), 0, 10);
            Assert.Equal(1008, codes.Count(c => c is 200 or 500));
            // The workers saw every attempt: exactly 12% of what each served failed.
            var total = workers.Sum(w => w.App.Stats.Snapshot(DateTimeOffset.UtcNow).Row.Total);
            var failed = workers.Sum(w => w.App.Stats.Snapshot(DateTimeOffset.UtcNow).Row.Failed);
            Assert.True(total > 1008);
            Assert.InRange(failed, 100, 150);
        }
        finally
        {
            foreach (var worker in workers) await worker.DisposeAsync();
        }
    }

    [Fact]
    public async Task TheBalancerFollowsTheMembershipAndConfigFeeds()
    {
        var directory = TestNodes.TempDirectory();
        var workers = await WorkersAsync(directory, 2, failure: 0, delay: TimeSpan.Zero);
        await using var control = await FakeControlApi.StartAsync();
        try
        {
            Member Member(WorkerNode w, string id) => new(id, BalancerPlanner.WorkerRole,
                new Dictionary<string, string> { ["http"] = $"http://127.0.0.1:{w.ServicePort}", ["admin"] = $"http://127.0.0.1:{w.AdminPort}" });
            var one = Member(workers[0], "worker-1");
            var two = Member(workers[1], "worker-2");
            await control.Membership.Writer.WriteAsync(new MembershipEvent(MembershipChange.Snapshot, null, new MembershipSnapshot(1, [one])));
            await control.Configs.Writer.WriteAsync(new ConfigDocument(1, LbConfig().ToJson()));

            var context = TestNodes.Context("lb-1", BalancerPlanner.BalancerRole, directory) with { ControlUrl = new Uri(control.Url) };
            await using var lb = await BalancerNode.StartAsync(context, LbConfig(), workers: null);
            using var controlClient = new ControlClient(context.ControlUrl, context.Token);
            lb.Follow(controlClient);
            await TestNodes.WaitUntilAsync(() => lb.Pool.All.Count == 1, what: "the snapshot");

            await control.Membership.Writer.WriteAsync(new MembershipEvent(MembershipChange.Joined, two, new MembershipSnapshot(2, [one, two])));
            await TestNodes.WaitUntilAsync(() => lb.Pool.All.Count == 2, what: "worker-2 to join");
            using var client = TestNodes.Client(lb.Port);
            var replies = new List<string>();
            for (var i = 0; i < 4; i++) replies.Add((await client.GetFromJsonAsync<JsonElement>("/api/v1/hello")).GetProperty("message").GetString()!);
            Assert.Equal(["hello from worker worker-1", "hello from worker worker-2", "hello from worker worker-1", "hello from worker worker-2"], replies);

            await control.Membership.Writer.WriteAsync(new MembershipEvent(MembershipChange.Left, one, new MembershipSnapshot(3, [two])));
            await TestNodes.WaitUntilAsync(() => lb.Pool.All.Count == 1 && lb.Pool.All[0].Id == "worker-2", what: "worker-1 to leave");

            await control.Configs.Writer.WriteAsync(new ConfigDocument(2, LbConfig(c => c with { Policy = BalancingPolicyKind.LeastRequests }).ToJson()));
            await TestNodes.WaitUntilAsync(() => lb.State.Config.Policy == BalancingPolicyKind.LeastRequests, what: "the reloaded policy");
            Assert.True(control.SawToken);
        }
        finally
        {
            foreach (var worker in workers) await worker.DisposeAsync();
        }
    }

    [Fact]
    public async Task AWorkerTakesDelayAndFailureFromAReloadButKeepsAFaultSetByHandUntilThen()
    {
        var directory = TestNodes.TempDirectory();
        var initial = new BalancerConfig { FailurePercent = 0, AvgDelay = TimeSpan.Zero };
        await using var control = await FakeControlApi.StartAsync();
        var context = TestNodes.Context("worker-1", BalancerPlanner.WorkerRole, directory) with { ControlUrl = new Uri(control.Url) };
        await using var worker = await WorkerNode.StartAsync(context, initial);
        await worker.App.SetFaultsAsync(worker.App.Faults with { FailurePercent = 30 });
        using var controlClient = new ControlClient(context.ControlUrl, context.Token);
        worker.Follow(controlClient, initial);

        // The feed's first version is the running config: it must not undo the fault set by hand.
        await control.Configs.Writer.WriteAsync(new ConfigDocument(1, initial.ToJson()));
        await control.Configs.Writer.WriteAsync(new ConfigDocument(2, (initial with { AvgDelay = TimeSpan.FromMilliseconds(3) }).ToJson()));
        await TestNodes.WaitUntilAsync(() => worker.App.Faults.AvgDelay == TimeSpan.FromMilliseconds(3), what: "the reloaded delay");
        Assert.Equal(30, worker.App.Faults.FailurePercent);
        await control.Configs.Writer.WriteAsync(new ConfigDocument(3, (initial with { AvgDelay = TimeSpan.FromMilliseconds(3), FailurePercent = 12 }).ToJson()));
        await TestNodes.WaitUntilAsync(() => worker.App.Faults.FailurePercent == 12, what: "the reloaded failure rate");
    }

    [Fact]
    public async Task TheModuleRunsBothRolesAgainstAControlApiAndDrainsOnCancellation()
    {
        var directory = TestNodes.TempDirectory();
        var config = new BalancerConfig { FailurePercent = 0, AvgDelay = TimeSpan.Zero, HealthCheck = new HealthCheckConfig { Interval = TimeSpan.FromMilliseconds(200) } };
        await using var control = await FakeControlApi.StartAsync();
        var module = new BalancerModule();
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        NodeContext Context(string id, string role) => TestNodes.Context(id, role, directory) with
        {
            ControlUrl = new Uri(control.Url),
            Config = config.ToJson(),
            Ports = role == BalancerPlanner.WorkerRole ? new Dictionary<string, int> { ["http"] = 0, ["admin"] = 0 } : new Dictionary<string, int> { ["http"] = 0 },
        };

        var worker = module.RunNodeAsync(BalancerPlanner.WorkerRole, Context("worker-1", BalancerPlanner.WorkerRole), [], stop.Token);
        await TestNodes.WaitUntilAsync(() => control.Endpoints.ContainsKey("worker-1"), what: "the worker to report its ports");
        var ports = control.Endpoints["worker-1"];
        Assert.True(ports["http"] > 0 && ports["admin"] > 0 && ports["http"] != ports["admin"]);

        var member = new Member("worker-1", BalancerPlanner.WorkerRole, new Dictionary<string, string> { ["http"] = $"http://127.0.0.1:{ports["http"]}" });
        await control.Membership.Writer.WriteAsync(new MembershipEvent(MembershipChange.Snapshot, null, new MembershipSnapshot(1, [member])));
        await control.Configs.Writer.WriteAsync(new ConfigDocument(1, config.ToJson()));
        var lb = module.RunNodeAsync(BalancerPlanner.BalancerRole, Context("lb-1", BalancerPlanner.BalancerRole), [], stop.Token);
        await TestNodes.WaitUntilAsync(() => control.Endpoints.ContainsKey("lb-1"), what: "the balancer to report its port");
        using var client = TestNodes.Client(control.Endpoints["lb-1"]["http"]);
        await TestNodes.WaitUntilAsync(async () => (await client.GetAsync("/readyz")).IsSuccessStatusCode, what: "the balancer to be ready");
        for (var i = 0; i < 10; i++)
        {
            var reply = await client.GetFromJsonAsync<JsonElement>("/api/v1/hello");
            Assert.Equal("hello from worker worker-1", reply.GetProperty("message").GetString());
        }

        await stop.CancelAsync();
        Assert.Equal(0, await lb);
        Assert.Equal(0, await worker);
        var row = await new WorkerStatsStore(Path.Combine(directory, "balancer.db")).LoadAsync("worker-1");
        Assert.Equal(10, row!.Total);
    }

    /// <summary>The two server-sent-event feeds of the control API, served by a real Kestrel, fed by the test.</summary>
    private sealed class FakeControlApi : IAsyncDisposable
    {
        private readonly WebApplication _app;

        private FakeControlApi(WebApplication app) => _app = app;

        public Channel<MembershipEvent> Membership { get; } = Channel.CreateUnbounded<MembershipEvent>();
        public Channel<ConfigDocument> Configs { get; } = Channel.CreateUnbounded<ConfigDocument>();
        public string Url { get; private set; } = "";
        public bool SawToken { get; private set; }
        public System.Collections.Concurrent.ConcurrentDictionary<string, IReadOnlyDictionary<string, int>> Endpoints { get; } = new();

        public static async Task<FakeControlApi> StartAsync()
        {
            var builder = WebApplication.CreateSlimBuilder();
            builder.Logging.ClearProviders();
            builder.WebHost.UseKestrel(k => k.Listen(IPAddress.Loopback, 0));
            var app = builder.Build();
            var api = new FakeControlApi(app);
            app.MapGet(ControlRoutes.MembershipEvents, (HttpContext http) => api.StreamAsync(http, api.Membership.Reader));
            app.MapGet(ControlRoutes.ConfigEvents, (HttpContext http) => api.StreamAsync(http, api.Configs.Reader));
            app.MapPost("/v1/nodes/{id}/endpoints", (string id, EndpointsReport report) =>
            {
                api.Endpoints[id] = report.Ports;
                return Results.Ok();
            });
            await app.StartAsync();
            api.Url = $"http://127.0.0.1:{app.BoundPort()}/";
            return api;
        }

        private async Task StreamAsync<T>(HttpContext http, ChannelReader<T> reader)
        {
            SawToken |= http.Request.Headers.Authorization.ToString() == $"Bearer {TestNodes.Token}";
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
            Membership.Writer.TryComplete();
            Configs.Writer.TryComplete();
            await _app.StopAsync();
            await _app.DisposeAsync();
        }
    }
}
