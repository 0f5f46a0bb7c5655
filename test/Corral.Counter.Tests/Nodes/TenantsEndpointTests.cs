using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Corral.Counter.Config;
using Corral.Counter.Coordinator;
using Corral.Counter.Items;
using Corral.Counter.Worker;
using Corral.Node.Control;

namespace Corral.Counter.Tests.Nodes;

/// <summary>
/// The coordinator's <c>GET /counter/tenants</c> (what the dashboard's counter panel reads): items acknowledged and the
/// recent tenants with their counts, over a real worker and store; and the bounded memory of recent tenants behind it.
/// </summary>
public sealed class TenantsEndpointTests : IAsyncLifetime
{
    private static readonly Uri NoSupervisor = new($"http://127.0.0.1:{LoopbackPort.Unused()}");
    private readonly TempFolder _folder = new();
    private readonly HttpClient _http = new(new SocketsHttpHandler { UseProxy = false }) { Timeout = TimeSpan.FromSeconds(30) };
    private WorkerNode _worker = null!;
    private CoordinatorNode _coordinator = null!;

    public async Task InitializeAsync()
    {
        var config = new CounterConfig { Partitions = 4, StorePath = _folder.Combine("store"), RetryBudget = TimeSpan.FromSeconds(10) };
        _worker = await WorkerNode.StartAsync(TestNodeContext.Create("worker-1", CounterPlan.WorkerRole, _folder.Path, NoSupervisor), config);
        _coordinator = await CoordinatorNode.StartAsync(TestNodeContext.Create("coordinator", CounterPlan.CoordinatorRole, _folder.Path, NoSupervisor), config);
        _coordinator.UseWorkers(new MembershipSnapshot(1,
            [new Member("worker-1", CounterPlan.WorkerRole, new Dictionary<string, string> { ["http"] = $"http://127.0.0.1:{_worker.Port}" })]));
    }

    public async Task DisposeAsync()
    {
        await _coordinator.DisposeAsync();
        await _worker.DisposeAsync();
        _http.Dispose();
        _folder.Dispose();
    }

    [Fact]
    public async Task Tenants_lists_the_items_acknowledged_and_each_recent_tenants_count_newest_first()
    {
        Assert.Equal(0, (await TenantsAsync()).GetProperty("ingested").GetInt64());

        await PostAsync("""[{"id":"1","tenant":"a"},{"id":"2","tenant":"a"},{"id":"1","tenant":"b"}]""");
        await PostAsync("""[{"id":"2","tenant":"a"},{"id":"1","tenant":"c"}]""");
        using var refused = await _http.PostAsync($"http://127.0.0.1:{_coordinator.Port}/items",
            new StringContent("""[{"id":"1","tenant":"../x"}]""", Encoding.UTF8, "application/json"));
        Assert.Equal(System.Net.HttpStatusCode.BadRequest, refused.StatusCode);

        var view = await TenantsAsync();
        var tenants = view.GetProperty("tenants").EnumerateArray().Select(t => (t.GetProperty("tenant").GetString(), t.GetProperty("count").GetInt64())).ToArray();
        Assert.Equal(5, view.GetProperty("ingested").GetInt64());
        Assert.Equal([("a", 2L), ("c", 1L), ("b", 1L)], tenants);
    }

    [Fact]
    public void The_memory_of_recent_tenants_is_bounded_and_keeps_the_newest()
    {
        var activity = new IngestActivity(keep: 3);
        for (var i = 0; i < 10; i++) activity.Record([new Item("1", $"t{i}")]);
        activity.Record([new Item("2", "t0")]);

        Assert.Equal(["t0", "t9", "t8"], activity.Recent());
        Assert.Equal(11, activity.Ingested);
    }

    private async Task PostAsync(string json)
    {
        using var response = await _http.PostAsync($"http://127.0.0.1:{_coordinator.Port}/items", new StringContent(json, Encoding.UTF8, "application/json"));
        response.EnsureSuccessStatusCode();
    }

    private Task<JsonElement> TenantsAsync() => _http.GetFromJsonAsync<JsonElement>($"http://127.0.0.1:{_coordinator.Port}/counter/tenants");
}
