using Corral.Counter.Config;
using Corral.Counter.Coordinator;
using Corral.Counter.Worker;
using Corral.Node.Control;
using Corral.Testing.Fuzz;

namespace Corral.Counter.Tests.Nodes;

/// <summary>Every route of the coordinator and a worker under seeded fuzz: 4xx for what is wrong, never a 5xx, still live after.</summary>
public sealed class CounterFuzzTests : IAsyncLifetime
{
    private static readonly Uri NoSupervisor = new($"http://127.0.0.1:{LoopbackPort.Unused()}");
    private static readonly string[] Bodies =
    [
        """[{"id":"1","tenant":"t1"},{"id":"2","tenant":"t2"}]""", """[{"id":"a","tenant":"t1"}]""", "[]",
    ];

    private readonly TempFolder _folder = new();
    private WorkerNode _worker = null!;
    private CoordinatorNode _coordinator = null!;

    public async Task InitializeAsync()
    {
        var config = new CounterConfig { Partitions = 8, StorePath = _folder.Combine("store"), BatchLimit = 50, RetryBudget = TimeSpan.FromSeconds(2) };
        _worker = await WorkerNode.StartAsync(TestNodeContext.Create("worker-1", CounterPlan.WorkerRole, _folder.Path, NoSupervisor), config);
        _coordinator = await CoordinatorNode.StartAsync(TestNodeContext.Create("coordinator", CounterPlan.CoordinatorRole, _folder.Path, NoSupervisor), config);
        _coordinator.UseWorkers(new MembershipSnapshot(1,
            [new Member("worker-1", CounterPlan.WorkerRole, new Dictionary<string, string> { ["http"] = $"http://127.0.0.1:{_worker.Port}" })]));
    }

    [Fact]
    public async Task The_coordinators_routes_answer_every_fuzzed_request_without_a_5xx()
    {
        var target = FuzzTarget.Of("counter.coordinator", _coordinator.App) with { SampleBodies = Bodies, SampleValues = ["t1", "t2", "worker-1"] };
        (await HttpFuzz.RunAsync(target, seed: 3001, count: 2000)).AssertClean();
    }

    [Fact]
    public async Task The_workers_routes_answer_every_fuzzed_request_without_a_5xx()
    {
        // Its /kill route ends the worker by design (003's contract): the fuzz leaves it out and a test of its own covers it.
        var target = FuzzTarget.Of("counter.worker", _worker.App) with
        {
            SampleBodies = Bodies, SampleValues = ["t1", "t2"],
            // The coordinator's credential: a worker takes /items from no one else.
            Token = TestNodeContext.CredentialOf("coordinator", CounterPlan.CoordinatorRole),
        };
        target = target with { Routes = target.Routes.Where(r => r.Pattern.RawText != "/kill").ToArray() };
        (await HttpFuzz.RunAsync(target, seed: 3002, count: 1600)).AssertClean();
    }

    public async Task DisposeAsync()
    {
        await _coordinator.DisposeAsync();
        await _worker.DisposeAsync();
        _folder.Dispose();
    }
}
