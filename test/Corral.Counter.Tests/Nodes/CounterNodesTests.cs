using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Corral.Counter.Config;
using Corral.Counter.Coordinator;
using Corral.Counter.Partitioning;
using Corral.Counter.Worker;
using Corral.Node.Control;
using Microsoft.Extensions.Hosting;

namespace Corral.Counter.Tests.Nodes;

/// <summary>
/// A coordinator and workers in-process on real Kestrel ports over one real store: the HTTP contract, bad input,
/// fencing between two workers, and re-routing around a dead owner.
/// </summary>
public sealed class CounterNodesTests : IAsyncLifetime
{
    private static readonly Uri NoSupervisor = new($"http://127.0.0.1:{LoopbackPort.Unused()}");
    private readonly TempFolder _folder = new();
    private readonly HttpClient _http = new(new SocketsHttpHandler { UseProxy = false }) { Timeout = TimeSpan.FromSeconds(30) };
    private readonly List<IAsyncDisposable> _nodes = [];
    private CounterConfig _config = null!;

    public Task InitializeAsync()
    {
        _config = new CounterConfig { Partitions = 8, StorePath = _folder.Combine("store"), BatchLimit = 50, RetryBudget = TimeSpan.FromSeconds(10) };
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        foreach (var node in _nodes) await node.DisposeAsync();
        _http.Dispose();
        _folder.Dispose();
    }

    private async Task<WorkerNode> WorkerAsync(string id)
    {
        var node = await WorkerNode.StartAsync(TestNodeContext.Create(id, CounterPlan.WorkerRole, _folder.Path, NoSupervisor), _config);
        _nodes.Add(node);
        return node;
    }

    private async Task<CoordinatorNode> CoordinatorAsync(CounterConfig? config = null)
    {
        var node = await CoordinatorNode.StartAsync(TestNodeContext.Create("coordinator", CounterPlan.CoordinatorRole, _folder.Path, NoSupervisor), config ?? _config);
        _nodes.Add(node);
        return node;
    }

    private static MembershipSnapshot Members(params (string Id, int Port)[] workers) => new(1, workers
        .Select(w => new Member(w.Id, CounterPlan.WorkerRole, new Dictionary<string, string> { ["http"] = $"http://127.0.0.1:{w.Port}" }))
        .ToArray());

    private Task<HttpResponseMessage> PostAsync(int port, string json, string? token = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, $"http://127.0.0.1:{port}/items") { Content = new StringContent(json, Encoding.UTF8, "application/json") };
        if (token is not null) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return _http.SendAsync(request);
    }

    private async Task<long> CountAsync(int port, string tenant) =>
        (await _http.GetFromJsonAsync<JsonElement>($"http://127.0.0.1:{port}/items/{tenant}/count")).GetProperty("count").GetInt64();

    private static string Items(params (string Id, string Tenant)[] items) =>
        "[" + string.Join(",", items.Select(i => $$"""{"id":"{{i.Id}}","tenant":"{{i.Tenant}}"}""")) + "]";

    [Fact]
    public async Task The_originals_sanity_batch_is_counted_at_once_and_a_tenant_never_seen_counts_zero()
    {
        var worker = await WorkerAsync("worker-1");
        var coordinator = await CoordinatorAsync();
        coordinator.UseWorkers(Members(("worker-1", worker.Port)));

        using var response = await PostAsync(coordinator.Port, Items(("1", "t1"), ("2", "t2"), ("2", "t3"), ("4", "t1")));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(4, (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("accepted").GetInt32());
        Assert.Equal(2, await CountAsync(coordinator.Port, "t1"));
        Assert.Equal(1, await CountAsync(coordinator.Port, "t3"));
        Assert.Equal(0, await CountAsync(coordinator.Port, "nobody"));
    }

    [Theory]
    [InlineData("""[{"id":"ok","tenant":"good"},{"id":"1","tenant":"../x"}]""", "item 1: tenant '../x'")]
    [InlineData("""[{"id":"ok","tenant":"good"},{"id":7,"tenant":"good"}]""", "item 1: id is a JSON number")]
    [InlineData("""[{"id":"ok","tenant":"good"},{"id":"","tenant":"good"}]""", "item 1: id '' is empty")]
    [InlineData("""[{"id":"ok","tenant":"good"},{"id":"a","tenant":"good","x":1}]""", "item 1 has an unknown field 'x'")]
    [InlineData("""[{"id":"ok","tenant":"good"}""", "malformed JSON")]
    public async Task A_bad_item_is_a_400_naming_it_and_nothing_of_the_batch_is_written(string json, string expected)
    {
        var worker = await WorkerAsync("worker-1");
        var coordinator = await CoordinatorAsync();
        coordinator.UseWorkers(Members(("worker-1", worker.Port)));

        using var response = await PostAsync(coordinator.Port, json);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Contains(expected, problem.GetProperty("detail").GetString());
        Assert.Contains("nothing was written", problem.GetProperty("detail").GetString());
        Assert.Equal(0, await CountAsync(coordinator.Port, "good"));
        // Nothing outside the store, and no partition file: the batch never reached a worker.
        Assert.All(Directory.GetFiles(_config.StorePath!), file => Assert.StartsWith("counter.db", Path.GetFileName(file)));
        Assert.False(File.Exists(_folder.Combine("x")));
    }

    [Fact]
    public async Task Oversized_bodies_batches_over_the_limit_and_path_like_tenants_in_reads_are_refused()
    {
        var worker = await WorkerAsync("worker-1");
        var coordinator = await CoordinatorAsync();
        coordinator.UseWorkers(Members(("worker-1", worker.Port)));

        using var tooMany = await PostAsync(coordinator.Port, Items(Enumerable.Range(0, 51).Select(i => ($"{i}", "t")).ToArray()));
        Assert.Equal(HttpStatusCode.BadRequest, tooMany.StatusCode);
        Assert.Contains("more than 50 items (the limit)", await tooMany.Content.ReadAsStringAsync());

        // Expect: 100-continue, as a client sending a large body should: the 413 comes before the body is sent, so the
        // client never writes into a connection the server has already answered and closed.
        using var hugeRequest = new HttpRequestMessage(HttpMethod.Post, $"http://127.0.0.1:{coordinator.Port}/items")
        {
            Content = new StringContent("[" + new string(' ', 2 * 1024 * 1024) + "]", Encoding.UTF8, "application/json"),
        };
        hugeRequest.Headers.ExpectContinue = true;
        using var huge = await _http.SendAsync(hugeRequest);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, huge.StatusCode);
        Assert.Contains("at most 1048576 bytes", await huge.Content.ReadAsStringAsync());

        using var pathLike = await _http.GetAsync($"http://127.0.0.1:{coordinator.Port}/items/..%2Fx/count");
        Assert.Equal(HttpStatusCode.BadRequest, pathLike.StatusCode);
        Assert.Contains("path-like", await pathLike.Content.ReadAsStringAsync());
        Assert.Equal(0, await CountAsync(coordinator.Port, "t"));
    }

    [Fact]
    public async Task A_workers_write_and_kill_routes_need_the_runs_token()
    {
        var worker = await WorkerAsync("worker-1");
        using var anonymous = await PostAsync(worker.Port, Items(("1", "t")));
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        using var wrong = await PostAsync(worker.Port, Items(("1", "t")), "not-the-token");
        Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);
        using var kill = await _http.PostAsync($"http://127.0.0.1:{worker.Port}/kill", null);
        Assert.Equal(HttpStatusCode.Unauthorized, kill.StatusCode);
        Assert.Equal(0, await CountAsync(worker.Port, "t"));
        Assert.False(worker.App.Lifetime.ApplicationStopping.IsCancellationRequested);
    }

    [Fact]
    public async Task Kill_with_the_token_drains_the_worker_after_committing_what_it_acknowledged()
    {
        // Periodic durability acknowledges (202) before committing, and the persist interval is far away: the items are
        // only in the worker's queue when it is killed, so only the drain can commit them (under sync a 200 is a commit).
        _config = _config with { Durability = Durability.Periodic, PersistInterval = TimeSpan.FromHours(1) };
        var worker = await WorkerAsync("worker-1");
        using var written = await PostAsync(worker.Port, Items(("1", "t"), ("2", "t")), TestNodeContext.CredentialOf("coordinator", "counter.coordinator"));
        Assert.Equal(HttpStatusCode.Accepted, written.StatusCode);
        using var request = new HttpRequestMessage(HttpMethod.Post, $"http://127.0.0.1:{worker.Port}/kill");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", TestNodeContext.CredentialOf("coordinator", "counter.coordinator"));
        using var kill = await _http.SendAsync(request);
        Assert.Equal(HttpStatusCode.Accepted, kill.StatusCode);
        // No supervisor to restart it here: the worker drains on its own, and its host then disposes it (as RunAsync does).
        await Eventually.TrueAsync(() => worker.App.Lifetime.ApplicationStopping.IsCancellationRequested, TimeSpan.FromSeconds(10), "the worker to drain");
        _nodes.Remove(worker);
        await worker.DisposeAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(20));

        var again = await WorkerAsync("worker-2");
        Assert.Equal(2, await CountAsync(again.Port, "t"));
    }

    [Fact]
    public async Task A_worker_that_still_believes_it_owns_a_partition_after_losing_it_cannot_write_it()
    {
        var a = await WorkerAsync("worker-a");
        var b = await WorkerAsync("worker-b");
        var coordinator = await CoordinatorAsync();
        var partitioner = new Partitioner(_config.Partitions);
        var tenant = "t-fenced";
        var sibling = Enumerable.Range(0, 1000).Select(i => $"s{i}").First(t => t != tenant && partitioner.Of(t) == partitioner.Of(tenant));

        coordinator.UseWorkers(Members(("worker-a", a.Port)));
        Assert.Equal(HttpStatusCode.OK, (await PostAsync(coordinator.Port, Items(("1", tenant)))).StatusCode);
        Assert.Contains(partitioner.Of(tenant), a.Partitions.Open().Keys);

        // The membership moves the partition to worker-b; worker-a has heard nothing and keeps it open.
        coordinator.UseWorkers(Members(("worker-b", b.Port)));
        Assert.Equal(HttpStatusCode.OK, (await PostAsync(coordinator.Port, Items(("2", tenant)))).StatusCode);
        Assert.True(b.Partitions.Open()[partitioner.Of(tenant)] > a.Partitions.Open()[partitioner.Of(tenant)]);

        // A stale request reaches worker-a directly: the partition's store refuses its epoch, and nothing is written.
        using var stale = await PostAsync(a.Port, Items(("3", tenant), ("9", sibling)), TestNodeContext.CredentialOf("coordinator", "counter.coordinator"));
        Assert.Equal(HttpStatusCode.Conflict, stale.StatusCode);
        Assert.Contains($"partition(s) {partitioner.Of(tenant)} have a newer owner", await stale.Content.ReadAsStringAsync());
        Assert.Equal(2, await CountAsync(coordinator.Port, tenant));
        Assert.Equal(0, await CountAsync(coordinator.Port, sibling));
        Assert.DoesNotContain(partitioner.Of(tenant), a.Partitions.Open().Keys);
    }

    [Fact]
    public async Task A_dead_owner_is_routed_around_and_every_acknowledged_item_is_counted()
    {
        var live = await WorkerAsync("worker-1");
        var coordinator = await CoordinatorAsync();
        // worker-2 is in the membership but nothing listens on its port (it just died).
        coordinator.UseWorkers(Members(("worker-1", live.Port), ("worker-2", LoopbackPort.Unused())));
        Assert.Equal(2, coordinator.OwnersNow().Workers.Count(w => w.Value.Count > 0));

        var items = Enumerable.Range(0, 40).Select(i => ($"{i}", $"tenant-{i % 20}")).ToArray();
        using var response = await PostAsync(coordinator.Port, Items(items));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        foreach (var tenant in Enumerable.Range(0, 20).Select(i => $"tenant-{i}"))
        {
            Assert.Equal(2, await CountAsync(coordinator.Port, tenant));
        }
    }

    [Fact]
    public async Task Periodic_durability_answers_202_at_once_and_a_later_periodic_commit_counts_the_items()
    {
        _config = _config with { Durability = Durability.Periodic, PersistInterval = TimeSpan.FromMilliseconds(300) };
        var worker = await WorkerAsync("worker-1");
        var coordinator = await CoordinatorAsync();
        coordinator.UseWorkers(Members(("worker-1", worker.Port)));

        using var response = await PostAsync(coordinator.Port, Items(("1", "p"), ("2", "p"), ("2", "p")));
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        Assert.Equal(3, (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("accepted").GetInt32());
        // Not a timing check (a loaded machine may take seconds): that a periodic commit, with no request waiting on it,
        // makes the items countable. PartitionStoreTests checks the interval itself, on a fake clock.
        await Eventually.TrueAsync(async ct => await CountAsync(coordinator.Port, "p") == 2, TimeSpan.FromSeconds(10), "the periodic commit");
    }

    [Fact]
    public async Task With_no_worker_to_take_a_write_the_coordinator_answers_503_once_its_budget_is_spent()
    {
        var coordinator = await CoordinatorAsync(_config with { RetryBudget = TimeSpan.FromMilliseconds(300), ForwardTimeout = TimeSpan.FromMilliseconds(200) });
        coordinator.UseWorkers(Members(("worker-1", LoopbackPort.Unused())));
        using var response = await PostAsync(coordinator.Port, Items(("1", "t")));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Contains("1 of 1 items found no worker", await response.Content.ReadAsStringAsync());
    }
}
