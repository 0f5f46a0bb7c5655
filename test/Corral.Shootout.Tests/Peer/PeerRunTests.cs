using System.Globalization;
using Corral.Shootout.Checking;
using Corral.Shootout.Config;
using Corral.Shootout.Peer;
using Corral.Shootout.Peer.Etcd;

namespace Corral.Shootout.Tests.Peer;

/// <summary>Peer shootouts played by the real cowboy loops through a real etcd, checked by the history checker.</summary>
public sealed class PeerRunTests
{
    /// <summary>How many seeded runs the checker test plays; <c>CORRAL_PEER_RUNS</c> raises it.</summary>
    private static int RunCount =>
        int.TryParse(Environment.GetEnvironmentVariable("CORRAL_PEER_RUNS"), NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n > 0 ? n : 30;

    internal static ShootoutConfig Seeded(int seed, string etcd, int? cowboys = null, TimeSpan? tick = null)
    {
        var random = new Random(seed);
        var count = cowboys ?? 3 + seed * 7 % 18; // 3 to 20
        return new ShootoutConfig
        {
            Mode = ShootoutMode.Peer,
            Tick = tick ?? TimeSpan.FromMilliseconds(20),
            Seed = seed,
            Rounds = 1 + seed % 2,
            Intermission = TimeSpan.FromMilliseconds(50),
            Etcd = etcd,
            Cowboys = Enumerable.Range(1, count).Select(i => new CowboySpec { Name = $"c{i}", Health = random.Next(2, 7), Damage = random.Next(1, 4) }).ToArray(),
        };
    }

    [Fact]
    public async Task Seeded_peer_runs_of_3_to_20_cowboys_end_with_one_winner_per_round_and_pass_the_checker()
    {
        await using var etcd = await EtcdServer.StartAsync();
        var failures = new List<string>();
        var seeds = Enumerable.Range(1, RunCount).ToArray();

        // A few runs at once (each under its own prefix) keep the test short on two cores.
        await Parallel.ForEachAsync(seeds, new ParallelOptions { MaxDegreeOfParallelism = 3 }, async (seed, _) =>
        {
            var config = Seeded(seed, etcd.Endpoints);
            await using var run = await PeerHarness.StartAsync(config, $"seeded-{seed}");
            try
            {
                // Generous: a loaded machine (other builds, other test runs) slows etcd's fsyncs and every cowboy.
                await run.Finished.WaitAsync(TimeSpan.FromSeconds(120));
            }
            catch (TimeoutException)
            {
                var state = await run.Views.Values.First().SnapshotAsync(CancellationToken.None);
                lock (failures) failures.Add($"seed {seed} ({config.Cowboys.Count} cowboys): no outcome within 120 s; state {state?.Status}, round {state?.Round}, " +
                                             $"leader {state?.Leader}, alive {state?.Cowboys.Count(c => c.Alive)}");
                return;
            }

            var outcome = await run.Finished;
            var result = ShootoutChecker.CheckFile(run.EventsFile);
            lock (failures)
            {
                if (!outcome.Passed) failures.Add($"seed {seed}: the outcome is not passed");
                if (!result.Passed) failures.Add($"seed {seed} ({config.Cowboys.Count} cowboys): {string.Join("; ", result.Violations.Take(5))}");
                if (result.Winners.Count != config.Rounds) failures.Add($"seed {seed}: {result.Winners.Count} winners for {config.Rounds} rounds");
                if (result.Shots == 0) failures.Add($"seed {seed}: no shots");
            }
        });

        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }

    [Fact]
    public async Task A_restarted_cowboy_takes_its_identity_back_with_its_health_and_a_stranger_never_can()
    {
        await using var etcd = await EtcdServer.StartAsync();
        var config = Seeded(7, etcd.Endpoints, cowboys: 3) with { Tick = TimeSpan.FromSeconds(30) }; // one beat: the game stands still
        using var store = new EtcdStore(etcd.Endpoints);
        var game = new PeerGame(store, new PeerKeys("identity"), config, 7, TimeProvider.System);
        var bound = new List<string?>();
        foreach (var node in new[] { "cowboy-1", "cowboy-2", "cowboy-3" }) bound.Add(await game.RegisterAsync(node, CancellationToken.None));
        Assert.Equal(["c1", "c2", "c3"], bound);

        var state = await game.ReadAsync(CancellationToken.None);
        Assert.True(await game.StartRoundAsync(state, 1, CancellationToken.None));
        state = await game.ReadAsync(CancellationToken.None);
        var (attempt, shot, _, _) = await game.ShootAsync(state, "c1", CancellationToken.None);
        Assert.Equal(ShotAttempt.Hit, attempt);

        // The same node id, as a restarted process: its own identity, with the health the shot left.
        Assert.Equal(shot!.Target == "c2" ? "c2" : "c3", await game.RegisterAsync(shot.Target == "c2" ? "cowboy-2" : "cowboy-3", CancellationToken.None));
        var after = (await game.ReadAsync(CancellationToken.None)).Find(shot.Target!)!;
        Assert.Equal(shot.HealthAfter, after.Health);

        // A node id the game has never seen gets nothing.
        Assert.Null(await game.RegisterAsync("cowboy-9", CancellationToken.None));
    }

    [Fact]
    public async Task A_second_shot_in_the_same_beat_is_refused_and_a_stale_read_conflicts()
    {
        await using var etcd = await EtcdServer.StartAsync();
        var config = Seeded(3, etcd.Endpoints, cowboys: 3) with { Tick = TimeSpan.FromSeconds(30) };
        using var store = new EtcdStore(etcd.Endpoints);
        var game = new PeerGame(store, new PeerKeys("beat"), config, 3, TimeProvider.System);
        foreach (var node in new[] { "n1", "n2", "n3" }) await game.RegisterAsync(node, CancellationToken.None);
        Assert.True(await game.StartRoundAsync(await game.ReadAsync(CancellationToken.None), 1, CancellationToken.None));

        var stale = await game.ReadAsync(CancellationToken.None);
        Assert.Equal(ShotAttempt.Hit, (await game.ShootAsync(stale, "c1", CancellationToken.None)).Attempt);
        Assert.Equal(ShotAttempt.Conflict, (await game.ShootAsync(stale, "c1", CancellationToken.None)).Attempt);
        Assert.Equal(ShotAttempt.NotNow, (await game.ShootAsync(await game.ReadAsync(CancellationToken.None), "c1", CancellationToken.None)).Attempt);

        var beat = await game.ReadAsync(CancellationToken.None);
        Assert.True(await game.BeatAsync(beat, CancellationToken.None));
        Assert.Equal(ShotAttempt.Hit, (await game.ShootAsync(await game.ReadAsync(CancellationToken.None), "c1", CancellationToken.None)).Attempt);
    }

    [Fact]
    public async Task A_shooter_hit_since_its_read_still_shoots_but_one_killed_since_its_read_cannot()
    {
        await using var etcd = await EtcdServer.StartAsync();
        // Two cowboys, so each one's target is the other; no tick, so nothing but the rules under test refuses a shot.
        var config = Seeded(1, etcd.Endpoints, cowboys: 2, tick: TimeSpan.Zero) with
        {
            Cowboys = [new CowboySpec { Name = "a", Health = 5, Damage = 1 }, new CowboySpec { Name = "b", Health = 5, Damage = 3 }],
        };
        using var store = new EtcdStore(etcd.Endpoints);
        var game = new PeerGame(store, new PeerKeys("stale-shooter"), config, 1, TimeProvider.System);
        foreach (var node in new[] { "n1", "n2" }) await game.RegisterAsync(node, CancellationToken.None);
        Assert.True(await game.StartRoundAsync(await game.ReadAsync(CancellationToken.None), 1, CancellationToken.None));

        var aRead = await game.ReadAsync(CancellationToken.None);
        var bShot = await game.ShootAsync(await game.ReadAsync(CancellationToken.None), "b", CancellationToken.None);
        Assert.Equal(ShotAttempt.Hit, bShot.Attempt);

        // a was hit (5 → 2) after its read, and is alive: its shot commits on the state it read.
        var aShot = await game.ShootAsync(aRead, "a", CancellationToken.None);
        Assert.Equal(ShotAttempt.Hit, aShot.Attempt);
        Assert.Equal(2, aShot.Next!.Find("a")!.Health); // the transaction read the game back, with both shots in it
        Assert.Equal(4, aShot.Next.Find("b")!.Health);

        // b, hit since its last shot too, kills a (2 → 0). a's state from its own shot is still current in all but that:
        // its shooting record, b's health and the round have not moved, so only a's death refuses its next shot.
        var kill = await game.ShootAsync(bShot.Next!, "b", CancellationToken.None);
        Assert.True(kill is { Attempt: ShotAttempt.Hit, Killed: true });
        var dead = await game.ShootAsync(aShot.Next, "a", CancellationToken.None);
        Assert.Equal(ShotAttempt.Conflict, dead.Attempt);
        Assert.Equal(0, dead.Next!.Find("a")!.Health);
        Assert.Equal(4, dead.Next.Find("b")!.Health);
        Assert.Null(dead.Next.TargetOf(dead.Next.Find("a")!, 1));
    }

    [Fact]
    public async Task When_the_leader_stops_another_cowboy_leads_within_3_seconds_and_the_game_ends()
    {
        await using var etcd = await EtcdServer.StartAsync();
        var config = Seeded(11, etcd.Endpoints, cowboys: 4, tick: TimeSpan.FromMilliseconds(100)) with { Rounds = 1 };
        await using var run = await PeerHarness.StartAsync(config, "failover");
        using var store = new EtcdStore(etcd.Endpoints);
        var keys = new PeerKeys(run.RunId);
        string? leader = null;
        await Eventually.TrueAsync(async ct => (leader = (await store.LeaderAsync(keys.Election, ct))?.Value.ToStringUtf8()) is not null,
            TimeSpan.FromSeconds(20), "a first leader");
        var state = await new PeerGame(store, keys, config, 11, TimeProvider.System).ReadAsync(CancellationToken.None);
        var node = state.Find(leader!)!.Node!;

        // The clock starts once the leader is gone (stopping revokes its lease): stopping a cowboy's loops is the harness's
        // time, not the fail-over's, and on two busy cores it can take a good part of the 3 s.
        await run.StopCowboyAsync(node);
        var stopped = System.Diagnostics.Stopwatch.StartNew();
        string? next = null;
        await Eventually.TrueAsync(async ct => (next = (await store.LeaderAsync(keys.Election, ct))?.Value.ToStringUtf8()) is { } n && n != leader,
            TimeSpan.FromSeconds(3), "a new leader within 3 s");
        Assert.True(stopped.Elapsed < TimeSpan.FromSeconds(3), $"the new leader took {stopped.Elapsed}");

        var outcome = await run.Finished.WaitAsync(TimeSpan.FromSeconds(60));
        Assert.True(outcome.Passed);
        var result = ShootoutChecker.CheckFile(run.EventsFile);
        Assert.True(result.Passed, string.Join("\n", result.Violations));
        Assert.Single(result.Winners);
    }

    [Fact]
    public async Task Each_cowboys_view_reads_the_finished_game_from_etcd_with_one_winner_left_alive_and_a_cowboy_leading()
    {
        await using var etcd = await EtcdServer.StartAsync();
        var config = Seeded(21, etcd.Endpoints, cowboys: 4) with { Rounds = 1 };
        await using var run = await PeerHarness.StartAsync(config, "state");
        await run.Finished.WaitAsync(TimeSpan.FromSeconds(60));

        // Every view reads etcd after the game, through the same path: this checks what each view shows of a finished
        // game, not that cowboys agreed mid-game (the checker's history does that in the seeded-runs test).
        var snapshots = await Task.WhenAll(run.Views.Values.Select(v => v.SnapshotAsync(CancellationToken.None)));
        var json = snapshots.Select(s => System.Text.Json.JsonSerializer.Serialize(s!, ShootoutJson.Default.GameSnapshot)).ToArray();
        Assert.All(json, j => Assert.Equal(json[0], j));
        var state = snapshots[0]!;
        Assert.Equal("finished", state.Status);
        var winner = Assert.Single(state.Winners);
        Assert.Equal([winner.Winner], state.Cowboys.Where(c => c.Alive).Select(c => c.Name));
        Assert.NotEqual(default, winner.At);
        Assert.Contains(state.Leader, config.Cowboys.Select(c => c.Name));
        Assert.Equal(ShootoutChecker.CheckFile(run.EventsFile).Shots, state.Cowboys.Sum(c => c.ShotsFired));
    }
}
