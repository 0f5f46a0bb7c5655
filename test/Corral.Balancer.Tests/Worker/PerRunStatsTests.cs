using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Corral.Balancer.Config;
using Corral.Balancer.Store;
using Corral.Balancer.Tests.Helpers;
using Corral.Balancer.Worker;
using Microsoft.Data.Sqlite;

namespace Corral.Balancer.Tests.Worker;

/// <summary>Statistics rows carry their run: a new run starts from zero, earlier runs stay readable, old stores migrate.</summary>
public sealed class PerRunStatsTests
{
    private static Task<WorkerNode> StartAsync(string directory, string runId) =>
        WorkerNode.StartAsync(TestNodes.Context("worker-1", BalancerPlan.WorkerRole, directory) with { RunId = runId },
            new BalancerConfig { FailurePercent = 0, AvgDelay = TimeSpan.Zero });

    private static async Task HelloAsync(WorkerNode node, int count)
    {
        using var client = TestNodes.Client(node.ServicePort);
        for (var i = 0; i < count; i++)
        {
            using var response = await client.GetAsync("/api/v1/hello");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }
    }

    private static long Total(JsonElement original) => original.GetProperty("TotalRequests")[0].GetProperty("total").GetInt64();

    [Fact]
    public async Task Worker_stats_show_the_current_run_and_stats_can_name_an_earlier_one()
    {
        using var data = new TempFolder();
        await using (var first = await StartAsync(data.Path, "run-a"))
        {
            await HelloAsync(first, 5);
        }

        await using var second = await StartAsync(data.Path, "run-b");
        await HelloAsync(second, 3);
        using var service = TestNodes.Client(second.ServicePort);
        Assert.Equal(3, Total(await service.GetFromJsonAsync<JsonElement>("/worker/stats")));

        using var admin = TestNodes.Client(second.AdminPort);
        var current = await admin.GetFromJsonAsync<JsonElement>("/stats");
        Assert.Equal("run-b", current.GetProperty("run").GetString());
        Assert.Equal(3, current.GetProperty("total").GetProperty("total").GetInt64());
        var earlier = await admin.GetFromJsonAsync<JsonElement>("/stats?run=run-a");
        Assert.Equal(5, earlier.GetProperty("total").GetProperty("total").GetInt64());

        using var unknown = await admin.GetAsync("/stats?run=run-z");
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        var problem = await unknown.Content.ReadAsStringAsync();
        Assert.Contains("run-a", problem);
        Assert.Contains("run-b", problem);
    }

    [Fact]
    public async Task A_store_without_run_ids_migrates_and_keeps_its_rows_under_their_own_name()
    {
        using var data = new TempFolder();
        var path = data.Combine("balancer.db");
        // The schema before rows carried a run, with one row of 7 requests in it.
        await using (var connection = new SqliteConnection($"Data Source={path};Pooling=false"))
        {
            await connection.OpenAsync();
            await using var command = connection.CreateCommand();
            command.CommandText = """
                CREATE TABLE worker_stats (worker_id TEXT PRIMARY KEY, successful INTEGER NOT NULL, failed INTEGER NOT NULL,
                    total INTEGER NOT NULL, latency_sum_us INTEGER NOT NULL, mean_ms REAL NOT NULL, p50_ms REAL NOT NULL,
                    p99_ms REAL NOT NULL, histogram BLOB NOT NULL, updated_at TEXT NOT NULL);
                INSERT INTO worker_stats VALUES ('worker-1', 6, 1, 7, 7000, 1.0, 1.0, 1.0, x'', '2026-01-01T00:00:00.0000000+00:00');
                """;
            await command.ExecuteNonQueryAsync();
        }

        await using var node = await StartAsync(data.Path, "run-new");
        using var service = TestNodes.Client(node.ServicePort);
        // This run's worker starts from zero (the old row is not its own), and its request numbering with it.
        Assert.Equal(0, Total(await service.GetFromJsonAsync<JsonElement>("/worker/stats")));
        using var admin = TestNodes.Client(node.AdminPort);
        var old = await admin.GetFromJsonAsync<JsonElement>($"/stats?run={WorkerStatsStore.UnversionedRun}");
        Assert.Equal(7, old.GetProperty("total").GetProperty("total").GetInt64());
        Assert.Equal(1, old.GetProperty("total").GetProperty("failed").GetInt64());
    }
}
