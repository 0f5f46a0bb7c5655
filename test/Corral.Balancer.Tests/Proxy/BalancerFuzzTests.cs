using Corral.Balancer.Config;
using Corral.Balancer.Proxy;
using Corral.Balancer.Tests.Helpers;
using Corral.Balancer.Worker;
using Corral.Testing.Fuzz;

namespace Corral.Balancer.Tests.Proxy;

/// <summary>
/// Every route of a balancer (its own and the proxied ones) and of a worker's service and admin listeners under seeded
/// fuzz: 4xx for what is wrong, never a 5xx, still live after.
/// </summary>
public sealed class BalancerFuzzTests
{
    private static readonly string[] Bodies =
    [
        """{"outage":"none","failure":0,"avgDelay":"1ms"}""", """{"failure":0}""", """{"avgDelay":"1ms"}""", """{"message":"hi"}""",
    ];

    [Fact]
    public async Task The_balancers_and_a_workers_routes_answer_every_fuzzed_request_without_a_5xx()
    {
        using var data = new TempFolder();
        // No injected failures: a 500 the worker is told to give is not one the fuzz should find.
        await using var worker = await WorkerNode.StartAsync(TestNodes.Context("worker-1", BalancerPlan.WorkerRole, data.Path),
            new BalancerConfig { FailurePercent = 0, AvgDelay = TimeSpan.FromMilliseconds(1) });
        await using var lb = await Balancers.StartAsync(Balancers.Config(), $"http://127.0.0.1:{worker.ServicePort}");

        var admin = FuzzTarget.Of("balancer.worker admin", worker.Admin) with { SampleBodies = Bodies, SampleValues = ["run-1", "worker-1"] };
        // PUT /faults may switch an outage on, which closes the service listener on purpose: the admin fuzz sends no outage.
        admin = admin with { SampleBodies = Bodies.Where(b => !b.Contains("outage")).ToArray() };
        (await HttpFuzz.RunAsync(admin, seed: 2001, count: 600)).AssertClean();
        // The admin fuzz may have set a failure rate (a 500 by request): back to none before the service is fuzzed.
        using (var http = TestNodes.Client(worker.AdminPort))
        {
            http.DefaultRequestHeaders.Authorization = new("Bearer", TestNodeContext.Operator);
            using var reset = await http.PutAsync("/faults", new StringContent(Bodies[0], null, "application/json"));
            reset.EnsureSuccessStatusCode();
        }

        var service = FuzzTarget.Of("balancer.worker service", worker.ServiceApp!, worker.ServicePort) with { SampleBodies = Bodies };
        (await HttpFuzz.RunAsync(service, seed: 2002, count: 800)).AssertClean();
        var balancer = FuzzTarget.Of("balancer.lb", lb.App) with { SampleBodies = Bodies, SampleValues = ["api/v1/hello", "worker/stats", "stats"] };
        (await HttpFuzz.RunAsync(balancer, seed: 2003, count: 1000)).AssertClean();
    }

    [Theory]
    [InlineData("/api/v1/hello", 200)]
    [InlineData("/no-such-route", 404)]
    public async Task A_body_over_a_megabyte_through_the_balancer_gets_the_workers_answer_not_a_502(string path, int expected)
    {
        // Found by the fuzz: the worker's service listener kept the node's 1 MiB limit, closed the connection mid-upload,
        // and the balancer answered 502 (and counted it against the worker).
        using var data = new TempFolder();
        await using var worker = await WorkerNode.StartAsync(TestNodes.Context("worker-1", BalancerPlan.WorkerRole, data.Path),
            new BalancerConfig { FailurePercent = 0, AvgDelay = TimeSpan.FromMilliseconds(1) });
        await using var lb = await Balancers.StartAsync(Balancers.Config(), $"http://127.0.0.1:{worker.ServicePort}");
        using var client = TestNodes.Client(lb.Port);

        using var response = await client.PostAsync(path, new ByteArrayContent(new byte[3 * 1024 * 1024]));

        Assert.Equal(expected, (int)response.StatusCode);
    }
}
