using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Corral.Balancer.Config;
using Corral.Balancer.Store;
using Corral.Balancer.Tests.Helpers;
using Corral.Balancer.Worker;

namespace Corral.Balancer.Tests.Worker;

public sealed class WorkerNodeTests
{
    private static async Task<WorkerNode> StartAsync(string directory, double failure, TimeSpan delay, string id = "worker-1") =>
        await WorkerNode.StartAsync(TestNodes.Context(id, BalancerPlan.WorkerRole, directory), new BalancerConfig
        {
            FailurePercent = failure,
            AvgDelay = delay,
            StatsFlushInterval = TimeSpan.FromMilliseconds(200),
        });

    private static async Task<int[]> HammerAsync(HttpClient client, int clients, int each) =>
        (await Task.WhenAll(Enumerable.Range(0, clients).Select(async _ =>
        {
            var codes = new List<int>();
            for (var i = 0; i < each; i++)
            {
                using var response = await client.GetAsync("/api/v1/hello");
                codes.Add((int)response.StatusCode);
            }

            return codes;
        }))).SelectMany(c => c).ToArray();

    [Fact]
    public async Task Failure_rate_is_exact_and_stats_totals_are_exact_under_16_concurrent_clients()
    {
        using var data = new TempFolder();
        await using var node = await StartAsync(data.Path, failure: 12, delay: TimeSpan.FromMilliseconds(2));
        using var client = TestNodes.Client(node.ServicePort);

        var codes = await HammerAsync(client, clients: 16, each: 125);
        Assert.Equal(2000, codes.Length);
        Assert.Equal(240, codes.Count(c => c == 500));
        Assert.Equal(1760, codes.Count(c => c == 200));

        using var admin = TestNodes.Client(node.AdminPort);
        var stats = await admin.GetFromJsonAsync<JsonElement>("/stats");
        var total = stats.GetProperty("total");
        Assert.Equal(2000, total.GetProperty("total").GetInt64());
        Assert.Equal(1760, total.GetProperty("successful").GetInt64());
        Assert.Equal(240, total.GetProperty("failed").GetInt64());

        // The mean is the true mean of the measured latencies: sum over count, and a success waits [1ms, 3ms].
        var (row, _) = node.App.Stats.Snapshot(DateTimeOffset.UtcNow);
        Assert.Equal(row.LatencySumMicros / 1000.0 / row.Total, row.MeanMs, 9);
        Assert.Equal(row.MeanMs, total.GetProperty("meanMs").GetDouble(), 6);
        Assert.InRange(row.MeanMs, 0.8, 50);
        Assert.InRange(row.P99Ms, row.P50Ms, 1000);

        // Durable: the row in the SQLite file says the same after a drain.
        await node.StopAsync();
        var stored = await new WorkerStatsStore(data.Combine("balancer.db"), TestNodeContext.RunId).LoadAsync("worker-1");
        Assert.NotNull(stored);
        Assert.Equal(2000, stored.Total);
        Assert.Equal(240, stored.Failed);
        Assert.Equal(row.LatencySumMicros, stored.LatencySumMicros);
    }

    [Fact]
    public async Task Worker_stats_has_the_original_shape_on_both_listeners_with_a_weighted_total_mean()
    {
        using var data = new TempFolder();
        await using var first = await StartAsync(data.Path, failure: 0, delay: TimeSpan.Zero, "worker-1");
        await using var second = await StartAsync(data.Path, failure: 0, delay: TimeSpan.FromMilliseconds(20), "worker-2");
        using var a = TestNodes.Client(first.ServicePort);
        using var b = TestNodes.Client(second.ServicePort);
        await HammerAsync(a, 1, 30);
        await HammerAsync(b, 1, 10);
        await second.App.FlushAsync();

        foreach (var port in new[] { first.ServicePort, first.AdminPort })
        {
            using var client = TestNodes.Client(port);
            var stats = await client.GetFromJsonAsync<JsonElement>("/worker/stats");
            Assert.Equal(["SuccessfulRequests", "FailedRequests", "TotalRequests", "AverageResponseTime"],
                stats.EnumerateObject().Select(p => p.Name));
            var totals = stats.GetProperty("TotalRequests").EnumerateArray().ToArray();
            Assert.Equal(40, totals[0].GetProperty("total").GetInt64());
            Assert.Equal(30, totals[1].GetProperty("worker-1").GetInt64());
            Assert.Equal(10, totals[2].GetProperty("worker-2").GetInt64());
            var means = stats.GetProperty("AverageResponseTime").EnumerateArray().ToArray();
            var m1 = means[1].GetProperty("worker-1").GetDouble();
            var m2 = means[2].GetProperty("worker-2").GetDouble();
            Assert.Equal((30 * m1 + 10 * m2) / 40, means[0].GetProperty("total").GetDouble(), 3);
        }
    }

    [Fact]
    public async Task Faults_need_the_token_refuse_bad_bodies_and_take_effect()
    {
        using var data = new TempFolder();
        await using var node = await StartAsync(data.Path, failure: 0, delay: TimeSpan.Zero);
        using var admin = TestNodes.Client(node.AdminPort);
        using var service = TestNodes.Client(node.ServicePort);

        using (var noToken = await admin.PutAsync("/faults", new StringContent("""{"failure":100}""", Encoding.UTF8, "application/json")))
            Assert.Equal(HttpStatusCode.Unauthorized, noToken.StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await service.GetAsync("/api/v1/hello")).StatusCode);

        admin.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", TestNodeContext.Operator);
        foreach (var bad in new[] { "{", """{"failure":"lots"}""", """{"failure":150}""", """{"outage":"maybe"}""", """{"colour":"red"}""",
            """{"avgDelay":"99999999999999999999h"}""", """{"avgDelay":"٣s"}""", """{"avgDelay":"2h"}""" })
        {
            using var response = await admin.PutAsync("/faults", new StringContent(bad, Encoding.UTF8, "application/json"));
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        }

        Assert.Equal(0, node.App.Faults.FailurePercent);
        using (var ok = await admin.PutAsync("/faults", new StringContent("""{"failure":100}""", Encoding.UTF8, "application/json")))
            Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        Assert.Equal(HttpStatusCode.InternalServerError, (await service.GetAsync("/api/v1/hello")).StatusCode);
    }

    [Fact]
    public async Task Outage_refuses_then_drops_then_serves_again_on_the_same_port_while_admin_answers()
    {
        using var data = new TempFolder();
        await using var node = await StartAsync(data.Path, failure: 0, delay: TimeSpan.Zero);
        var port = node.ServicePort;
        using var admin = TestNodes.Client(node.AdminPort);
        admin.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", TestNodeContext.Operator);

        async Task SetAsync(string outage)
        {
            using var response = await admin.PutAsync("/faults", JsonContent.Create(new { outage }));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        await SetAsync("refuse");
        using (var client = TestNodes.Client(port))
        {
            var refused = await Assert.ThrowsAsync<HttpRequestException>(() => client.GetAsync("/api/v1/hello"));
            Assert.Equal(HttpRequestError.ConnectionError, refused.HttpRequestError);
        }

        Assert.Equal(HttpStatusCode.OK, (await admin.GetAsync("/readyz")).StatusCode);

        await SetAsync("drop");
        using (var client = TestNodes.Client(port))
        {
            await Assert.ThrowsAsync<HttpRequestException>(() => client.GetAsync("/api/v1/hello"));
        }

        await SetAsync("none");
        Assert.Equal(port, node.ServicePort);
        using (var client = TestNodes.Client(port))
        {
            Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/api/v1/hello")).StatusCode);
        }
    }

    [Fact]
    public async Task A_restarted_worker_carries_on_from_its_stored_row()
    {
        using var data = new TempFolder();
        await using (var first = await StartAsync(data.Path, failure: 50, delay: TimeSpan.Zero))
        {
            using var client = TestNodes.Client(first.ServicePort);
            await HammerAsync(client, 4, 50);
        }

        await using var second = await StartAsync(data.Path, failure: 50, delay: TimeSpan.Zero);
        using (var client = TestNodes.Client(second.ServicePort))
        {
            await HammerAsync(client, 4, 200);
        }

        var (row, _) = second.App.Stats.Snapshot(DateTimeOffset.UtcNow);
        Assert.Equal(1000, row.Total);
        // Numbering carried on too, so the whole first block of 1,000 failed exactly half.
        Assert.Equal(500, row.Failed);
    }
}
