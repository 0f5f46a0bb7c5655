using Corral.Node.Randomness;
using Corral.Shootout.Config;
using Corral.Shootout.Game;
using Corral.Shootout.Tests.Helpers;

namespace Corral.Shootout.Tests.Game;

public sealed class ShootoutGameTests
{
    private static readonly DateTimeOffset T0 = new(2026, 1, 1, 12, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan Tick = TimeSpan.FromSeconds(1);

    private static ShootoutGame Started(ShootoutConfig config, long seed = 42)
    {
        var game = new ShootoutGame(config, seed);
        var events = new List<GameEvent>();
        for (var i = 1; i <= config.Cowboys.Count; i++) Assert.Null(game.Register($"cowboy-{i}", T0, events).Refusal);
        Assert.Equal(GameStatus.Running, game.Status);
        return game;
    }

    private static ShotOutcome Shoot(ShootoutGame game, string shooter, DateTimeOffset at, List<GameEvent>? events = null)
    {
        var node = game.Find(shooter)!.Node!;
        return game.Shoot(shooter, node, at, events ?? []);
    }

    [Fact]
    public void Identities_are_handed_out_in_config_order_and_the_round_starts_when_all_are_bound()
    {
        var game = new ShootoutGame(Configs.Of(Tick, cowboys: [("A", 3, 1), ("B", 3, 1), ("C", 3, 1)]), 1);
        var events = new List<GameEvent>();
        Assert.Equal("A", game.Register("cowboy-3", T0, events).Cowboy);
        Assert.Equal("B", game.Register("cowboy-1", T0, events).Cowboy);
        Assert.Equal(GameStatus.Registering, game.Status);
        Assert.Equal(Refusal.RoundNotRunning, game.Shoot("A", "cowboy-3", T0, events).Refusal!.Reason);
        Assert.Equal("C", game.Register("cowboy-2", T0, events).Cowboy);
        Assert.Equal(GameStatus.Running, game.Status);
        Assert.Equal(1, game.Round);
        Assert.Equal([EventKinds.Registered, EventKinds.Registered, EventKinds.Registered, EventKinds.RoundStarted], events.Select(e => e.Kind));
        Assert.Equal(Refusal.NoIdentityLeft, game.Register("cowboy-4", T0, events).Refusal!.Reason);
        Assert.Equal(Refusal.BadNodeId, game.Register("../etc", T0, events).Refusal!.Reason);
    }

    [Fact]
    public void Waiting_cowboys_are_asked_to_retry_later_the_more_cowboys_are_still_missing()
    {
        // 500 cowboys: the first to register waits the cap, not a tick, so the cowboys already in do not ask once a tick
        // each while the rest start; near the end the pause shrinks to the floor, so the round's start is seen at once.
        var game = new ShootoutGame(Configs.Many(500, 10, 1, Tick), 1);
        var events = new List<GameEvent>();
        TimeSpan? RetryAfterWith(int registered)
        {
            while (game.RegisteredCount < registered) game.Register($"cowboy-{game.RegisteredCount + 1}", T0, events);
            var refused = game.Shoot("c1", "cowboy-1", T0, events).Refusal!;
            Assert.Equal(Refusal.RoundNotRunning, refused.Reason);
            return refused.RetryAfter;
        }

        Assert.Equal(TimeSpan.FromSeconds(5), RetryAfterWith(1));
        Assert.Equal(TimeSpan.FromSeconds(2), RetryAfterWith(400));
        Assert.Equal(TimeSpan.FromMilliseconds(200), RetryAfterWith(490));
        Assert.Equal(TimeSpan.FromMilliseconds(200), RetryAfterWith(499));
    }

    [Fact]
    public void A_restarted_node_gets_its_identity_back_with_its_current_health()
    {
        var game = Started(Configs.Of(Tick, cowboys: [("A", 5, 2), ("B", 5, 2)]));
        var report = Shoot(game, "A", T0).Report!;
        Assert.Equal("B", report.Target);
        var again = game.Register("cowboy-2", T0 + Tick, []);
        Assert.Equal("B", again.Cowboy);
        Assert.Equal(3, game.Find("B")!.Health);
    }

    [Fact]
    public void Unknown_shooter_and_someone_elses_identity_are_refused()
    {
        var game = Started(Configs.Of(Tick, cowboys: [("A", 5, 2), ("B", 5, 2)]));
        Assert.Equal(Refusal.UnknownShooter, game.Shoot("Z", "cowboy-1", T0, []).Refusal!.Reason);
        Assert.Equal(Refusal.NotYourIdentity, game.Shoot("A", "cowboy-2", T0, []).Refusal!.Reason);
    }

    [Fact]
    public void A_dead_cowboy_cannot_shoot()
    {
        var game = Started(Configs.Of(Tick, cowboys: [("A", 5, 1), ("B", 1, 1), ("C", 5, 1)]));
        // Fire until B is dead, one shot per tick per cowboy.
        var t = T0;
        while (game.Find("B")!.Alive)
        {
            Assert.NotNull(Shoot(game, "A", t).Report);
            t += Tick;
        }

        var refused = Shoot(game, "B", t).Refusal!;
        Assert.Equal(Refusal.ShooterDead, refused.Reason);
        Assert.Contains("dead until round 2", refused.Detail);
        Assert.Equal(1, refused.Round);
    }

    [Fact]
    public void A_second_shot_in_the_same_tick_is_refused_until_the_next_tick()
    {
        var game = Started(Configs.Of(Tick, cowboys: [("A", 50, 1), ("B", 50, 1)]));
        Assert.NotNull(Shoot(game, "A", T0 + TimeSpan.FromMilliseconds(100)).Report);
        var refused = Shoot(game, "A", T0 + TimeSpan.FromMilliseconds(900)).Refusal!;
        Assert.Equal(Refusal.SameTick, refused.Reason);
        Assert.Equal(TimeSpan.FromMilliseconds(100), refused.RetryAfter);
        Assert.NotNull(Shoot(game, "B", T0 + TimeSpan.FromMilliseconds(900)).Report);
        var next = Shoot(game, "A", T0 + Tick).Report!;
        Assert.Equal(1, next.Tick);
    }

    [Fact]
    public void Tick_zero_lifts_the_limit()
    {
        var game = Started(Configs.Of(TimeSpan.Zero, cowboys: [("A", 50, 1), ("B", 50, 1)]));
        for (var i = 0; i < 10; i++) Assert.Equal(0, Shoot(game, "A", T0).Report!.Tick);
    }

    [Fact]
    public void Targets_are_never_the_shooter_nor_dead_and_damage_clamps_at_zero()
    {
        var game = Started(Configs.Many(10, health: 3, damage: 2, TimeSpan.Zero));
        var events = new List<GameEvent>();
        while (game.Status == GameStatus.Running)
        {
            foreach (var shooter in game.Cowboys.Where(c => c.Alive).ToArray())
            {
                if (game.Status != GameStatus.Running || !shooter.Alive) continue;
                var before = game.Cowboys.ToDictionary(c => c.Name, c => c.Health);
                var report = Shoot(game, shooter.Name, T0, events).Report!;
                Assert.NotEqual(shooter.Name, report.Target);
                Assert.True(before[report.Target] > 0, $"{report.Target} was already dead");
                Assert.Equal(before[report.Target], report.TargetHealthBefore);
                Assert.Equal(Math.Max(0, before[report.Target] - 2), report.TargetHealthAfter);
                Assert.True(report.TargetHealthAfter >= 0);
            }
        }

        Assert.Single(events, e => e.Kind == EventKinds.Winner);
        Assert.Equal(9, events.Count(e => e.Kind == EventKinds.Death));
        Assert.Equal(1, game.AliveCount);
        Assert.Equal(GameStatus.Finished, game.Status);
        Assert.Equal(game.Cowboys.Single(c => c.Alive).Name, game.Winners.Single().Winner);
    }

    [Fact]
    public void Exactly_one_winner_and_shots_after_it_are_refused()
    {
        var game = Started(Configs.Of(TimeSpan.Zero, cowboys: [("A", 1, 1), ("B", 1, 1)]));
        var events = new List<GameEvent>();
        var report = Shoot(game, "A", T0, events).Report!;
        Assert.True(report.Killed);
        Assert.Equal("A", report.Winner);
        Assert.Equal(Refusal.RoundNotRunning, Shoot(game, "A", T0, events).Refusal!.Reason);
        Assert.Single(events, e => e.Kind == EventKinds.Winner);
    }

    [Fact]
    public void Rounds_restart_everyone_at_full_health_after_the_intermission()
    {
        var game = Started(Configs.Of(TimeSpan.Zero, rounds: 2, intermission: TimeSpan.FromSeconds(2), cowboys: [("A", 1, 1), ("B", 1, 1), ("C", 2, 1)]));
        var t = T0;
        while (game.Status == GameStatus.Running)
        {
            var shooter = game.Cowboys.First(c => c.Alive);
            Shoot(game, shooter.Name, t);
        }

        Assert.Equal(GameStatus.Intermission, game.Status);
        var early = Shoot(game, game.Winners[0].Winner, t + TimeSpan.FromSeconds(1)).Refusal!;
        Assert.Equal(Refusal.RoundNotRunning, early.Reason);
        Assert.Equal(TimeSpan.FromSeconds(1), early.RetryAfter);

        var events = new List<GameEvent>();
        game.Advance(t + TimeSpan.FromSeconds(2), events);
        Assert.Equal(EventKinds.RoundStarted, Assert.Single(events).Kind);
        Assert.Equal(2, game.Round);
        Assert.Equal([1, 1, 2], game.Cowboys.Select(c => c.Health));
        Assert.All(game.Cowboys, c => Assert.True(c.Alive));
    }

    [Fact]
    public void Target_choice_depends_only_on_seed_shooter_and_shot_number()
    {
        var config = Configs.Many(8, health: 100, damage: 1, TimeSpan.Zero);

        // Two games, same seed, shooters in different orders and times: each shooter's targets are the same.
        var first = Started(config, seed: 9);
        var second = Started(config, seed: 9);
        var targetsFirst = new Dictionary<string, List<string>>();
        var targetsSecond = new Dictionary<string, List<string>>();
        var names = config.Cowboys.Select(c => c.Name).ToArray();
        for (var shot = 0; shot < 5; shot++)
        {
            foreach (var name in names)
            {
                (targetsFirst.TryGetValue(name, out var l) ? l : targetsFirst[name] = []).Add(Shoot(first, name, T0).Report!.Target);
            }

            foreach (var name in names.Reverse())
            {
                (targetsSecond.TryGetValue(name, out var l) ? l : targetsSecond[name] = []).Add(Shoot(second, name, T0 + TimeSpan.FromMinutes(shot)).Report!.Target);
            }
        }

        Assert.Equal(targetsFirst.OrderBy(p => p.Key).SelectMany(p => p.Value), targetsSecond.OrderBy(p => p.Key).SelectMany(p => p.Value));

        var other = Started(config, seed: 10);
        var otherTargets = names.SelectMany(n => Enumerable.Range(0, 5).Select(_ => Shoot(other, n, T0).Report!.Target)).ToArray();
        Assert.NotEqual(names.SelectMany(n => targetsFirst[n]), otherTargets);
    }

    [Fact]
    public void Target_choice_is_roughly_uniform_over_live_rivals()
    {
        var counts = new int[4];
        for (var shot = 0; shot < 8000; shot++)
        {
            counts[SeededRandom.Below(SeededRandom.Derive(1, 1, 0, shot), 4)]++;
        }

        Assert.All(counts, c => Assert.InRange(c, 1800, 2200));
    }

    [Fact]
    public void Replaying_the_events_gives_the_same_state()
    {
        var config = Configs.Many(6, health: 4, damage: 1, Tick, rounds: 2, intermission: TimeSpan.FromSeconds(1));
        var game = new ShootoutGame(config, 3);
        var events = new List<GameEvent>();
        for (var i = 1; i <= 6; i++) game.Register($"cowboy-{i}", T0, events);
        var t = T0;
        while (game.Status != GameStatus.Finished)
        {
            t += Tick;
            game.Advance(t, events);
            foreach (var c in game.Cowboys.Where(c => c.Alive).ToArray()) game.Shoot(c.Name, c.Node!, t, events);
        }

        var replayed = new ShootoutGame(config, 3);
        foreach (var e in events) replayed.Apply(e);
        Assert.Equal(game.Cowboys.Select(c => (c.Name, c.Health, c.Node, c.ShotsFired, c.DamageDealt, c.DamageTaken, c.Wins)),
            replayed.Cowboys.Select(c => (c.Name, c.Health, c.Node, c.ShotsFired, c.DamageDealt, c.DamageTaken, c.Wins)));
        Assert.Equal(game.Winners, replayed.Winners);
        Assert.Equal(game.LastSeq, replayed.LastSeq);
        Assert.Equal(GameStatus.Finished, replayed.Status);
    }

    [Fact]
    public void A_cowboy_whose_process_is_down_stays_in_the_game_and_can_be_shot()
    {
        // cowboy-3's process never shoots (it is down): it is still a target and still counts as alive.
        var game = Started(Configs.Of(TimeSpan.Zero, cowboys: [("A", 50, 1), ("B", 50, 1), ("C", 3, 1)]));
        var hits = 0;
        for (var shot = 0; shot < 60 && game.Find("C")!.Alive; shot++)
        {
            var report = Shoot(game, shot % 2 == 0 ? "A" : "B", T0).Report!;
            if (report.Target == "C") hits++;
        }

        Assert.Equal(3, hits);
        Assert.False(game.Find("C")!.Alive);
        Assert.Equal("cowboy-3", game.Find("C")!.Node);
        Assert.Equal(GameStatus.Running, game.Status);
    }

    [Fact]
    public void A_cowboy_that_went_down_after_shooting_can_still_win()
    {
        // C fires the killing shots, then its process goes down; the round's winner is C all the same.
        var game = Started(Configs.Of(TimeSpan.Zero, cowboys: [("A", 1, 1), ("B", 1, 1), ("C", 1, 1)]));
        var report = Shoot(game, "C", T0).Report!;
        var last = Shoot(game, "C", T0).Report!;
        Assert.Equal("C", last.Winner);
        Assert.Equal("C", game.Winners.Single().Winner);
        Assert.NotEqual(report.Target, last.Target);
    }
}
