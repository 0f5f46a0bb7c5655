using Corral.Balancer.Policies;
using Corral.Balancer.Proxy;
using Corral.Node.Randomness;

namespace Corral.Balancer.Tests.Policies;

public sealed class PolicyTests
{
    private static Backend[] Backends(int n) =>
        Enumerable.Range(1, n).Select(i => new Backend($"worker-{i}", new Uri($"http://127.0.0.1:{6000 + i}"))).ToArray();

    private static void Load(Backend backend, int inFlight)
    {
        for (var i = 0; i < inFlight; i++) backend.Started(isRetry: false);
    }

    [Fact]
    public void Round_robin_starts_at_the_first_worker_and_cycles_in_order()
    {
        var backends = Backends(3);
        var policy = new RoundRobinPolicy();
        var picks = Enumerable.Range(0, 7).Select(_ => policy.Pick(backends).Id).ToArray();
        Assert.Equal(["worker-1", "worker-2", "worker-3", "worker-1", "worker-2", "worker-3", "worker-1"], picks);
    }

    [Fact]
    public void Round_robin_over_healthy_workers_skips_the_down_one_without_doubling_its_neighbour()
    {
        var backends = Backends(3);
        var pool = new BackendPool();
        pool.Update(backends.Select(b => new WorkerAddress(b.Id, new Uri(b.BaseUrl))));
        var down = pool.All[1];
        for (var i = 0; i < 3; i++) down.Active.Observe(false, unhealthyAfter: 3, healthyAfter: 1);
        var policy = new RoundRobinPolicy();
        var now = DateTimeOffset.UtcNow;
        var picks = Enumerable.Range(0, 6).Select(_ => policy.Pick(pool.Available(now)).Id).ToArray();
        Assert.Equal(["worker-1", "worker-3", "worker-1", "worker-3", "worker-1", "worker-3"], picks);
    }

    [Fact]
    public void Power_of_two_picks_the_less_loaded_of_two_and_is_seeded()
    {
        var backends = Backends(2);
        Load(backends[0], 5);
        var policy = new PowerOfTwoChoicesPolicy(new SeededRandom(7, "lb-1"));
        Assert.All(Enumerable.Range(0, 50), _ => Assert.Same(backends[1], policy.Pick(backends)));

        var four = Backends(4);
        Load(four[0], 1);
        Load(four[1], 2);
        Load(four[2], 3);
        Load(four[3], 4);
        var a = new PowerOfTwoChoicesPolicy(new SeededRandom(7, "lb-1"));
        var b = new PowerOfTwoChoicesPolicy(new SeededRandom(7, "lb-1"));
        var first = Enumerable.Range(0, 200).Select(_ => a.Pick(four).Id).ToArray();
        var second = Enumerable.Range(0, 200).Select(_ => b.Pick(four).Id).ToArray();
        Assert.Equal(first, second);
        // The most loaded worker can only win against itself, which the two distinct draws rule out.
        Assert.DoesNotContain("worker-4", first);
        Assert.Contains("worker-3", first);
        // worker-1 wins whenever it is drawn: in half of all draws of two out of four.
        Assert.InRange(first.Count(id => id == "worker-1"), 70, 130);
    }

    [Fact]
    public void Least_requests_picks_the_idlest_and_rotates_ties()
    {
        var backends = Backends(3);
        Load(backends[0], 2);
        Load(backends[1], 1);
        Load(backends[2], 1);
        var policy = new LeastRequestsPolicy();
        var picks = Enumerable.Range(0, 4).Select(_ => policy.Pick(backends).Id).ToArray();
        Assert.DoesNotContain("worker-1", picks);
        Assert.Contains("worker-2", picks);
        Assert.Contains("worker-3", picks);

        backends[1].Finished(false, TimeSpan.Zero);
        Assert.All(Enumerable.Range(0, 5), _ => Assert.Equal("worker-2", policy.Pick(backends).Id));
    }
}
