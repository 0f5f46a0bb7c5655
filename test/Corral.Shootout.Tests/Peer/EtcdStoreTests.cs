using System.Diagnostics;
using Corral.Shootout.Peer.Etcd;
using Etcdserverpb;
using Grpc.Core;

namespace Corral.Shootout.Tests.Peer;

/// <summary>The etcd wrapper against a real etcd that the tests kill and start again.</summary>
public sealed class EtcdStoreTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task A_txn_comparing_a_stale_mod_revision_fails_and_writes_nothing()
    {
        await using var etcd = await EtcdServer.StartAsync();
        using var store = new EtcdStore(etcd.Endpoints);
        var first = await store.PutAsync("/t/k", "1", CancellationToken.None);
        await store.PutAsync("/t/k", "2", CancellationToken.None);

        var stale = await store.TxnAsync(new TxnRequest
        {
            Compare = { new Compare { Key = EtcdStore.Bytes("/t/k"), Target = Compare.Types.CompareTarget.Mod, Result = Compare.Types.CompareResult.Equal, ModRevision = first.Header.Revision } },
            Success = { new RequestOp { RequestPut = new PutRequest { Key = EtcdStore.Bytes("/t/k"), Value = EtcdStore.Bytes("3") } } },
        }, CancellationToken.None);

        Assert.False(stale.Succeeded);
        Assert.Equal("2", (await store.GetAsync("/t/k", CancellationToken.None)).Kvs[0].Value.ToStringUtf8());
    }

    [Fact]
    public async Task Every_call_has_a_deadline_even_when_etcd_never_answers()
    {
        // A listener that accepts and never speaks: without a deadline the call would hang.
        using var silent = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        silent.Start();
        using var store = new EtcdStore($"http://127.0.0.1:{((System.Net.IPEndPoint)silent.LocalEndpoint).Port}", TimeSpan.FromMilliseconds(500));
        var clock = Stopwatch.StartNew();
        var e = await Assert.ThrowsAnyAsync<Exception>(() => store.GetAsync("/t/k", CancellationToken.None));
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"the call took {clock.Elapsed}");
        Assert.True(EtcdStore.IsTransient(e), e.ToString());
    }

    [Fact]
    public async Task A_lease_stays_alive_across_an_etcd_restart_on_a_new_keep_alive_stream()
    {
        await using var etcd = await EtcdServer.StartAsync();
        using var store = new EtcdStore(etcd.Endpoints, TimeSpan.FromSeconds(1));
        await using var lease = await LeaseKeeper.StartAsync(store, TimeSpan.FromSeconds(5), CancellationToken.None);
        await Eventually.TrueAsync(() => lease.Renewals > 0, Wait, "a first renewal");

        etcd.Kill();
        await etcd.RestartAsync();
        var renewals = lease.Renewals;
        await Eventually.TrueAsync(() => lease.Renewals > renewals + 2, Wait, () => $"renewals after the restart (reconnects {lease.Reconnects})");

        Assert.True(lease.Reconnects >= 1, "the keep-alive stream was never re-opened");
        Assert.False(lease.Lost.IsCompleted, "the lease was reported lost");
        Assert.True(await store.LeaseTimeToLiveAsync(lease.Id, CancellationToken.None) > 0);
    }

    [Fact]
    public async Task A_lease_that_cannot_be_renewed_within_its_ttl_is_reported_lost()
    {
        await using var etcd = await EtcdServer.StartAsync();
        using var store = new EtcdStore(etcd.Endpoints, TimeSpan.FromMilliseconds(500));
        await using var lease = await LeaseKeeper.StartAsync(store, TimeSpan.FromSeconds(2), CancellationToken.None);
        etcd.Kill();

        var reason = await lease.Lost.WaitAsync(Wait);
        Assert.Contains("not renewed", reason);
    }

    [Fact]
    public async Task Observe_follows_leaders_across_an_etcd_restart()
    {
        await using var etcd = await EtcdServer.StartAsync();
        using var store = new EtcdStore(etcd.Endpoints, TimeSpan.FromSeconds(1));
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await using var a = await LeaseKeeper.StartAsync(store, TimeSpan.FromSeconds(10), cts.Token);
        var leaderA = await store.CampaignAsync("/t/election", a.Id, "a", cts.Token);

        var seen = new List<string>();
        var observing = Task.Run(async () =>
        {
            await foreach (var kv in store.ObserveAsync("/t/election", cts.Token))
            {
                lock (seen) seen.Add(kv.Value.ToStringUtf8());
            }
        });
        await Eventually.TrueAsync(() => { lock (seen) return seen.Contains("a"); }, Wait, "leader a observed");

        etcd.Kill();
        await etcd.RestartAsync();
        // The channel may take a moment to reconnect: unary calls are retried by their callers.
        await UntilItWorksAsync(ct => store.ResignAsync(leaderA, ct));
        await using var b = await LeaseKeeper.StartAsync(store, TimeSpan.FromSeconds(10), cts.Token);
        await store.CampaignAsync("/t/election", b.Id, "b", cts.Token);

        await Eventually.TrueAsync(() => { lock (seen) return seen.Contains("b"); }, Wait, () => $"leader b observed after the restart (seen {string.Join(",", seen)})");
        Assert.True(store.Reopened >= 1);
        Assert.Equal("b", (await store.LeaderAsync("/t/election", cts.Token))!.Value.ToStringUtf8());
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<Exception>(() => observing);
    }

    [Fact]
    public async Task A_watch_resumes_after_an_etcd_restart_without_losing_or_repeating_events()
    {
        await using var etcd = await EtcdServer.StartAsync();
        using var store = new EtcdStore(etcd.Endpoints, TimeSpan.FromSeconds(1));
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var seen = new List<string>();
        var watching = Task.Run(async () =>
        {
            await foreach (var e in store.WatchPrefixAsync("/w/", 1, cts.Token))
            {
                lock (seen) seen.Add(e.Kv.Value.ToStringUtf8());
            }
        });
        await store.PutAsync("/w/a", "1", cts.Token);
        await Eventually.TrueAsync(() => { lock (seen) return seen.Count == 1; }, Wait, "the first event");

        etcd.Kill();
        await etcd.RestartAsync();
        await UntilItWorksAsync(ct => store.PutAsync("/w/b", "2", ct));
        await store.PutAsync("/w/a", "3", cts.Token);

        await Eventually.TrueAsync(() => { lock (seen) return seen.Count >= 3; }, Wait, () => $"events after the restart (seen {string.Join(",", seen)})");
        lock (seen) Assert.Equal(["1", "2", "3"], seen);
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<Exception>(() => watching);
    }

    [Fact]
    public async Task With_several_endpoints_calls_go_on_when_one_member_is_killed()
    {
        await using var etcd = await EtcdServer.StartAsync(3);
        using var store = new EtcdStore(etcd.Endpoints, TimeSpan.FromSeconds(2));
        await store.PutAsync("/c/k", "1", CancellationToken.None);
        etcd.Kill(0);

        // Allow for a new raft leader (about a second) and for the channel to skip the dead member.
        await Eventually.TrueAsync(async ct =>
        {
            try
            {
                await store.PutAsync("/c/k", "2", ct);
                return true;
            }
            catch (RpcException)
            {
                return false;
            }
        }, Wait, "a put with one member of three dead");
        for (var i = 0; i < 10; i++) await store.PutAsync("/c/k", $"{i}", CancellationToken.None);
        Assert.Equal("9", (await store.GetAsync("/c/k", CancellationToken.None)).Kvs[0].Value.ToStringUtf8());
    }

    private static Task UntilItWorksAsync(Func<CancellationToken, Task> call) =>
        Eventually.TrueAsync(async ct =>
        {
            try
            {
                await call(ct);
                return true;
            }
            catch (RpcException)
            {
                return false;
            }
        }, Wait, "a call to the restarted etcd");
}
