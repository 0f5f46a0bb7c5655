using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Corral.Balancer.Config;
using Corral.Balancer.Proxy;
using Corral.Balancer.Store;
using Corral.Balancer.Tests.Helpers;
using Corral.Balancer.Worker;
using Corral.Node.Control;
using Corral.Node.Nodes;

namespace Corral.Balancer.Tests.Proxy;

/// <summary>Real workers behind a real balancer, all in-process on real ports.</summary>
public sealed class ClusterTests
{
    private static async Task<WorkerNode[]> WorkersAsync(string directory, int count, double failure, TimeSpan delay) =>
        await Task.WhenAll(Enumerable.Range(1, count).Select(i => WorkerNode.StartAsync(
            TestNodes.Context($"worker-{i}", BalancerPlan.WorkerRole, directory),
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
    public async Task A_worker_going_down_under_steady_load_costs_no_client_an_error()
    {
        using var data = new TempFolder();
        var workers = await WorkersAsync(data.Path, 3, failure: 0, delay: TimeSpan.FromMilliseconds(1));
        try
        {
            await using var lb = await Balancers.StartAsync(LbConfig(), workers.Select(w => $"http://127.0.0.1:{w.ServicePort}").ToArray());
            using var client = TestNodes.Client(lb.Port);
            using var admin = TestNodes.Client(workers[1].AdminPort);
            admin.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", TestNodeContext.Operator);

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

            await Eventually.TrueAsync(() => Volatile.Read(ref served) > 200, TestNodes.Wait, "load to flow");
            // The service port closes: every new connection to it is refused, as after a SIGKILL.
            using (var response = await admin.PutAsync("/faults", JsonContent.Create(new { outage = "refuse" })))
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var mark = Volatile.Read(ref served);
            await Eventually.TrueAsync(() => Volatile.Read(ref served) > mark + 500, TestNodes.Wait, "load to flow past the outage");
            var down = lb.Pool.All.Single(b => b.Id == "worker-2");
            Assert.False(down.IsAvailable(DateTimeOffset.UtcNow));

            // Outage over: active checks bring it back after two good answers.
            using (var response = await admin.PutAsync("/faults", JsonContent.Create(new { outage = "none" })))
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            await Eventually.TrueAsync(() => down.IsAvailable(DateTimeOffset.UtcNow), TimeSpan.FromSeconds(15), "worker-2 back in rotation");
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
    public async Task Retrying_injected_500s_lowers_the_client_visible_failure_rate()
    {
        using var data = new TempFolder();
        var workers = await WorkersAsync(data.Path, 3, failure: 12, delay: TimeSpan.Zero);
        try
        {
            // The budget is opened (at most 16 requests, so 32 retries, in flight): this test is about what retries
            // do to the failure rate, and a budget that refuses some would make the rate depend on how the workers'
            // seeded failures happen to bunch up in time.
            await using var lb = await Balancers.StartAsync(LbConfig(c => c with
                {
                    Retries = c.Retries with { On5xx = true, Attempts = 2, BudgetPercent = 100, MinRetryConcurrency = 64 },
                }),
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
    public async Task The_balancer_follows_the_membership_and_config_feeds()
    {
        using var data = new TempFolder();
        var workers = await WorkersAsync(data.Path, 2, failure: 0, delay: TimeSpan.Zero);
        await using var control = await ControlApiStub.StartAsync();
        try
        {
            Member Member(WorkerNode w, string id) => new(id, BalancerPlan.WorkerRole,
                new Dictionary<string, string> { ["http"] = $"http://127.0.0.1:{w.ServicePort}", ["admin"] = $"http://127.0.0.1:{w.AdminPort}" });
            var one = Member(workers[0], "worker-1");
            var two = Member(workers[1], "worker-2");
            await control.MembershipFeed.Writer.WriteAsync(new MembershipEvent(MembershipChange.Snapshot, null, new MembershipSnapshot(1, [one])));
            await control.ConfigFeed.Writer.WriteAsync(new ConfigDocument(1, LbConfig().ToJson()));

            var context = TestNodes.Context("lb-1", BalancerPlan.BalancerRole, data.Path) with { ControlUrl = control.Url };
            // Without a fixed worker list the node follows the feeds of the control API its context names.
            await using var lb = await BalancerNode.StartAsync(context, LbConfig(), workers: null);
            await Eventually.TrueAsync(() => lb.Pool.All.Count == 1, TestNodes.Wait, "the snapshot");

            await control.MembershipFeed.Writer.WriteAsync(new MembershipEvent(MembershipChange.Joined, two, new MembershipSnapshot(2, [one, two])));
            await Eventually.TrueAsync(() => lb.Pool.All.Count == 2, TestNodes.Wait, "worker-2 to join");
            using var client = TestNodes.Client(lb.Port);
            var replies = new List<string>();
            for (var i = 0; i < 4; i++) replies.Add((await client.GetFromJsonAsync<JsonElement>("/api/v1/hello")).GetProperty("message").GetString()!);
            Assert.Equal(["hello from worker worker-1", "hello from worker worker-2", "hello from worker worker-1", "hello from worker worker-2"], replies);

            await control.MembershipFeed.Writer.WriteAsync(new MembershipEvent(MembershipChange.Left, one, new MembershipSnapshot(3, [two])));
            await Eventually.TrueAsync(() => lb.Pool.All.Count == 1 && lb.Pool.All[0].Id == "worker-2", TestNodes.Wait, "worker-1 to leave");

            await control.ConfigFeed.Writer.WriteAsync(new ConfigDocument(2, LbConfig(c => c with { Policy = BalancingPolicyKind.LeastRequests }).ToJson()));
            await Eventually.TrueAsync(() => lb.State.Config.Policy == BalancingPolicyKind.LeastRequests, TestNodes.Wait, "the reloaded policy");
            Assert.True(control.SawToken);
        }
        finally
        {
            foreach (var worker in workers) await worker.DisposeAsync();
        }
    }

    [Fact]
    public async Task A_worker_takes_delay_and_failure_from_a_reload_but_keeps_a_fault_set_by_hand_until_then()
    {
        using var data = new TempFolder();
        var initial = new BalancerConfig { FailurePercent = 0, AvgDelay = TimeSpan.Zero };
        await using var control = await ControlApiStub.StartAsync();
        var context = TestNodes.Context("worker-1", BalancerPlan.WorkerRole, data.Path) with { ControlUrl = control.Url };
        await using var worker = await WorkerNode.StartAsync(context, initial);
        // A worker follows the config feed of the control API its context names.
        await worker.App.SetFaultsAsync(worker.App.Faults with { FailurePercent = 30 });

        // The feed's first version is the running config: it must not undo the fault set by hand.
        await control.ConfigFeed.Writer.WriteAsync(new ConfigDocument(1, initial.ToJson()));
        await control.ConfigFeed.Writer.WriteAsync(new ConfigDocument(2, (initial with { AvgDelay = TimeSpan.FromMilliseconds(3) }).ToJson()));
        await Eventually.TrueAsync(() => worker.App.Faults.AvgDelay == TimeSpan.FromMilliseconds(3), TestNodes.Wait, "the reloaded delay");
        Assert.Equal(30, worker.App.Faults.FailurePercent);
        await control.ConfigFeed.Writer.WriteAsync(new ConfigDocument(3, (initial with { AvgDelay = TimeSpan.FromMilliseconds(3), FailurePercent = 12 }).ToJson()));
        await Eventually.TrueAsync(() => worker.App.Faults.FailurePercent == 12, TestNodes.Wait, "the reloaded failure rate");
    }

    [Fact]
    public async Task A_balancer_skips_a_config_version_it_cannot_read_and_applies_the_next_good_one()
    {
        await using var control = await ControlApiStub.StartAsync();
        await using var backend = await TestBackend.StartAsync();
        var context = TestNodes.Context("lb-1", BalancerPlan.BalancerRole, Path.GetTempPath()) with { ControlUrl = control.Url };
        await using var lb = await BalancerNode.StartAsync(context, LbConfig(), [new WorkerAddress("worker-1", new Uri(backend.Url))]);
        using var controlClient = new ControlClient(context.ControlUrl, context.Token);
        lb.Follow(controlClient);

        await control.ConfigFeed.Writer.WriteAsync(new ConfigDocument(1, LbConfig(c => c with { Policy = BalancingPolicyKind.PowerOfTwo }).ToJson()));
        await Eventually.TrueAsync(() => lb.State.Config.Policy == BalancingPolicyKind.PowerOfTwo, TestNodes.Wait, "version 1 to apply");
        using (var unreadable = JsonDocument.Parse("""{"policy":"sideways","timeouts":{"attempt":"soon"}}"""))
            await control.ConfigFeed.Writer.WriteAsync(new ConfigDocument(2, unreadable.RootElement.Clone()));
        await control.ConfigFeed.Writer.WriteAsync(new ConfigDocument(3, LbConfig(c => c with { Policy = BalancingPolicyKind.LeastRequests }).ToJson()));
        await Eventually.TrueAsync(() => lb.State.Config.Policy == BalancingPolicyKind.LeastRequests, TestNodes.Wait,
            "version 3 to apply after the unreadable version 2");
    }

    [Fact]
    public async Task The_module_runs_both_roles_against_a_control_API_and_drains_on_cancellation()
    {
        using var data = new TempFolder();
        var config = new BalancerConfig { FailurePercent = 0, AvgDelay = TimeSpan.Zero, HealthCheck = new HealthCheckConfig { Interval = TimeSpan.FromMilliseconds(200) } };
        await using var control = await ControlApiStub.StartAsync();
        var module = new BalancerModule();
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        NodeContext Context(string id, string role) => TestNodes.Context(id, role, data.Path) with
        {
            ControlUrl = control.Url,
            Config = config.ToJson(),
            Ports = role == BalancerPlan.WorkerRole ? new Dictionary<string, int> { ["http"] = 0, ["admin"] = 0 } : new Dictionary<string, int> { ["http"] = 0 },
        };

        var worker = module.RunNodeAsync(BalancerPlan.WorkerRole, Context("worker-1", BalancerPlan.WorkerRole), [], stop.Token);
        await Eventually.TrueAsync(() => control.Endpoints.ContainsKey("worker-1"), TestNodes.Wait, "the worker to report its ports");
        var ports = control.Endpoints["worker-1"];
        Assert.True(ports["http"] > 0 && ports["admin"] > 0 && ports["http"] != ports["admin"]);

        var member = new Member("worker-1", BalancerPlan.WorkerRole, new Dictionary<string, string> { ["http"] = $"http://127.0.0.1:{ports["http"]}" });
        await control.MembershipFeed.Writer.WriteAsync(new MembershipEvent(MembershipChange.Snapshot, null, new MembershipSnapshot(1, [member])));
        await control.ConfigFeed.Writer.WriteAsync(new ConfigDocument(1, config.ToJson()));
        var lb = module.RunNodeAsync(BalancerPlan.BalancerRole, Context("lb-1", BalancerPlan.BalancerRole), [], stop.Token);
        await Eventually.TrueAsync(() => control.Endpoints.ContainsKey("lb-1"), TestNodes.Wait, "the balancer to report its port");
        using var client = TestNodes.Client(control.Endpoints["lb-1"]["http"]);
        await Eventually.TrueAsync(async ct => (await client.GetAsync("/readyz", ct)).IsSuccessStatusCode, TestNodes.Wait, "the balancer to be ready");
        for (var i = 0; i < 10; i++)
        {
            var reply = await client.GetFromJsonAsync<JsonElement>("/api/v1/hello");
            Assert.Equal("hello from worker worker-1", reply.GetProperty("message").GetString());
        }

        await stop.CancelAsync();
        Assert.Equal(0, await lb);
        Assert.Equal(0, await worker);
        var row = await new WorkerStatsStore(data.Combine("balancer.db"), TestNodeContext.RunId).LoadAsync("worker-1");
        Assert.Equal(10, row!.Total);
    }
}
