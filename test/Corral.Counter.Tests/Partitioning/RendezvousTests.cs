using Corral.Counter.Partitioning;

namespace Corral.Counter.Tests.Partitioning;

public sealed class RendezvousTests
{
    private static int[] Owners(string[] workers, int partitions = 64) =>
        Enumerable.Range(0, partitions).Select(p => Rendezvous.Owner(p, workers)).ToArray();

    [Fact]
    public void Every_process_with_the_same_members_picks_the_same_owners_whatever_their_order()
    {
        string[] a = ["worker-1", "worker-2", "worker-3", "worker-4"];
        string[] b = ["worker-3", "worker-1", "worker-4", "worker-2"];
        Assert.Equal(Owners(a).Select(i => a[i]), Owners(b).Select(i => b[i]));
    }

    [Fact]
    public void A_joining_worker_takes_partitions_only_for_itself_and_a_leaving_one_gives_up_only_its_own()
    {
        string[] four = ["worker-1", "worker-2", "worker-3", "worker-4"];
        string[] five = [.. four, "worker-5"];
        var before = Owners(four).Select(i => four[i]).ToArray();
        var after = Owners(five).Select(i => five[i]).ToArray();
        var moved = Enumerable.Range(0, before.Length).Where(p => before[p] != after[p]).ToArray();
        Assert.NotEmpty(moved);
        Assert.All(moved, p => Assert.Equal("worker-5", after[p]));

        string[] three = ["worker-1", "worker-3", "worker-4"];
        var without2 = Owners(three).Select(i => three[i]).ToArray();
        for (var p = 0; p < before.Length; p++)
        {
            if (before[p] != "worker-2") Assert.Equal(before[p], without2[p]);
        }
    }

    [Fact]
    public void Partitions_spread_over_every_worker_and_none_without_workers()
    {
        string[] four = ["worker-1", "worker-2", "worker-3", "worker-4"];
        Assert.Equal(4, Owners(four, 256).Distinct().Count());
        Assert.Equal(-1, Rendezvous.Owner(0, []));
    }

    [Fact]
    public void A_tenant_always_maps_to_the_same_partition_within_the_count()
    {
        var partitioner = new Partitioner(32);
        Assert.Equal(partitioner.Of("t1"), new Partitioner(32).Of("t1"));
        Assert.All(Enumerable.Range(0, 1000), i => Assert.InRange(partitioner.Of($"tenant-{i}"), 0, 31));
        Assert.True(Enumerable.Range(0, 1000).Select(i => partitioner.Of($"tenant-{i}")).Distinct().Count() == 32);
    }
}
