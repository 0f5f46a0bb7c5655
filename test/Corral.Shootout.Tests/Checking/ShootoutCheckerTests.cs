using System.Text.Json;
using Corral.Shootout.Checking;
using Corral.Shootout.Config;
using Corral.Shootout.Game;
using Microsoft.Extensions.Time.Testing;

namespace Corral.Shootout.Tests.Checking;

public sealed class ShootoutCheckerTests
{
    private static string Line(GameEvent e) => JsonSerializer.Serialize(e, GameEventJson.Default.GameEvent);

    /// <summary>
    /// A seeded in-process shootout on a fake clock: cowboys fire about once a tick with random jitter,
    /// some fire twice within a tick, dead ones keep trying; every refusal must be one the rules allow.
    /// </summary>
    private static (List<GameEvent> Events, ShootoutGame Game) Simulate(int seed)
    {
        var random = new Random(seed);
        var count = 2 + seed % 49;
        var tick = TimeSpan.FromMilliseconds(100);
        var config = new ShootoutConfig
        {
            Tick = tick,
            Seed = seed,
            Rounds = 1 + seed % 3,
            Intermission = TimeSpan.FromMilliseconds(300),
            Cowboys = Enumerable.Range(1, count)
                .Select(i => new CowboySpec { Name = $"cowboy{i}", Health = random.Next(1, 12), Damage = random.Next(1, 5) }).ToArray(),
        };
        var time = new FakeTimeProvider();
        var game = new ShootoutGame(config, seed);
        var events = new List<GameEvent>();
        foreach (var i in Enumerable.Range(1, count).OrderBy(_ => random.Next()))
        {
            Assert.Null(game.Register($"node-{i}", time.GetUtcNow(), events).Refusal);
        }

        var start = time.GetUtcNow();
        var queue = new PriorityQueue<CowboySpec, DateTimeOffset>();
        foreach (var c in config.Cowboys) queue.Enqueue(c, start + tick * random.NextDouble());
        var steps = 0;
        while (game.Status != GameStatus.Finished)
        {
            Assert.True(++steps < 200_000, $"seed {seed}: the simulation does not end");
            queue.TryDequeue(out var spec, out var at);
            var now = time.GetUtcNow();
            if (at > now) time.Advance(at - now);
            var shooter = game.Find(spec!.Name)!;
            game.Advance(time.GetUtcNow(), events); // a new round revives the dead: look at the shooter after it
            var wasAlive = shooter.Alive;
            var outcome = game.Shoot(shooter.Name, shooter.Node!, time.GetUtcNow(), events);
            var next = time.GetUtcNow() + tick * (0.7 + 0.6 * random.NextDouble());
            if (outcome.Report is { } report)
            {
                Assert.True(wasAlive);
                Assert.NotEqual(shooter.Name, report.Target);
                if (random.NextDouble() < 0.1) next = time.GetUtcNow() + TimeSpan.FromMilliseconds(random.Next(0, 30)); // a duplicate within the tick, mostly
            }
            else
            {
                var reason = outcome.Refusal!.Reason;
                Assert.True(reason is Refusal.ShooterDead or Refusal.SameTick or Refusal.RoundNotRunning, $"seed {seed}: unexpected {reason}");
                if (reason == Refusal.ShooterDead) Assert.False(wasAlive);
                if (reason == Refusal.RoundNotRunning && game.NextRoundAt is { } round) next = round + tick * random.NextDouble();
            }

            queue.Enqueue(spec, next);
        }

        return (events, game);
    }

    [Fact]
    public void Two_hundred_seeded_shootouts_of_2_to_50_cowboys_pass_the_checker()
    {
        for (var seed = 0; seed < 200; seed++)
        {
            var (events, game) = Simulate(seed);
            var result = ShootoutChecker.Check(events.Select(Line));
            Assert.True(result.Passed, $"seed {seed}: {string.Join("; ", result.Violations)}");
            Assert.Equal(game.Config.Rounds, result.Winners.Count);
            Assert.Equal(game.Winners.Select(w => w.Winner), result.Winners.Select(w => w.Winner));
            Assert.True(result.Shots > 0);
        }
    }

    [Fact]
    public void The_same_seed_replays_the_same_history()
    {
        var (a, _) = Simulate(17);
        var (b, _) = Simulate(17);
        Assert.Equal(a.Select(Line), b.Select(Line));
    }

    private sealed class History
    {
        private static readonly DateTimeOffset T0 = new(2026, 1, 1, 12, 0, 0, TimeSpan.Zero);
        private long _seq;
        public List<string> Lines { get; } = [];

        public int Add(string kind, int round, double atMs, string? shooter = null, string? target = null, int? damage = null,
            int? before = null, int? after = null, long? tick = null, string? cowboy = null, long? seq = null, params (string, int, int)[] lineUp)
        {
            _seq = seq ?? _seq + 1;
            Lines.Add(Line(new GameEvent
            {
                Kind = kind, Seq = _seq, Round = round, Time = T0.AddMilliseconds(atMs), Shooter = shooter, Target = target, Damage = damage,
                HealthBefore = before, HealthAfter = after, Tick = tick, Cowboy = cowboy,
                TickMs = kind == EventKinds.RoundStarted ? 1000 : null,
                Cowboys = kind == EventKinds.RoundStarted ? lineUp.Select(c => new CowboySpec { Name = c.Item1, Health = c.Item2, Damage = c.Item3 }).ToArray() : null,
            }));
            return Lines.Count;
        }

        public int Raw(string text)
        {
            Lines.Add(text);
            return Lines.Count;
        }
    }

    [Fact]
    public void A_corrupted_history_has_each_kind_of_violation_named_with_its_line()
    {
        const string shot = EventKinds.Shot;
        var h = new History();
        var expected = new List<(string Kind, int Line)>();
        expected.Add((ViolationKinds.ShotBeforeRoundStart, h.Add(shot, 1, 0, "A", "B", 1, 3, 2, 0)));
        h.Add(EventKinds.RoundStarted, 1, 0, lineUp: [("A", 3, 1), ("B", 2, 2), ("C", 1, 1)]);
        expected.Add((ViolationKinds.ShotAtSelf, h.Add(shot, 1, 10, "A", "A", 1, 3, 2, 0)));
        h.Add(shot, 1, 20, "B", "C", 2, 1, 0, 0);
        h.Add(EventKinds.Death, 1, 20, cowboy: "C");
        expected.Add((ViolationKinds.ShotByDead, h.Add(shot, 1, 1000, "C", "A", 1, 2, 1, 1)));
        expected.Add((ViolationKinds.ShotAtDead, h.Add(shot, 1, 2000, "A", "C", 1, 0, 0, 2)));
        expected.Add((ViolationKinds.TwoShotsInTick, h.Add(shot, 1, 2100, "A", "B", 1, 2, 1, 2)));
        expected.Add((ViolationKinds.WrongTick, h.Add(shot, 1, 3000, "B", "A", 2, 1, 0, 5)));
        h.Add(EventKinds.Death, 1, 3000, cowboy: "A");
        expected.Add((ViolationKinds.DeathTwice, h.Add(EventKinds.Death, 1, 3000, cowboy: "A")));
        expected.Add((ViolationKinds.DeathWhileAlive, h.Add(EventKinds.Death, 1, 3000, cowboy: "B")));
        expected.Add((ViolationKinds.UnknownCowboy, h.Add(shot, 1, 4000, "B", "X", 2, 5, 3, 4)));
        expected.Add((ViolationKinds.WrongDamage, h.Add(shot, 1, 5000, "B", "A", 5, 0, 0, 5)));
        expected.Add((ViolationKinds.WrongWinner, h.Add(EventKinds.Winner, 1, 5000, cowboy: "A")));
        expected.Add((ViolationKinds.WinnerTwice, h.Add(EventKinds.Winner, 1, 5000, cowboy: "B")));
        expected.Add((ViolationKinds.ShotAfterWinner, h.Add(shot, 1, 6000, "B", "A", 2, 0, 0, 6)));
        expected.Add((ViolationKinds.MalformedLine, h.Raw("{\"kind\": \"shot\", \"seq\": ")));
        expected.Add((ViolationKinds.SequenceGap, h.Add(EventKinds.RoundStarted, 3, 7000, seq: 40, lineUp: [("A", 3, 1), ("B", 2, 2)])));
        expected.Add((ViolationKinds.RoundOutOfOrder, h.Lines.Count));
        expected.Add((ViolationKinds.WrongHealth, h.Add(shot, 3, 7100, "B", "A", 2, 3, 2, 0)));
        h.Add(shot, 3, 8100, "B", "A", 2, 2, 0, 1);
        var nextRound = h.Add(EventKinds.RoundStarted, 4, 9000, lineUp: [("A", 3, 1), ("B", 2, 2)]);
        expected.Add((ViolationKinds.DeathNotRecorded, nextRound));
        expected.Add((ViolationKinds.NoWinner, nextRound));

        var result = ShootoutChecker.Check(h.Lines);
        Assert.False(result.Passed);
        foreach (var (kind, line) in expected)
        {
            Assert.True(result.Violations.Any(v => v.Kind == kind && v.Line == line),
                $"expected {kind} at line {line}; got:\n{string.Join("\n", result.Violations)}");
        }

        // Beats and revisions exist only in peer histories (PeerCheckerTests).
        string[] peerOnly = [ViolationKinds.TwoShotsInBeat, ViolationKinds.RevisionOutOfOrder, ViolationKinds.MissingRevision];
        var kinds = typeof(ViolationKinds).GetFields().Select(f => (string)f.GetValue(null)!).Except(peerOnly).ToHashSet();
        Assert.Equal(kinds.Order(), result.Violations.Select(v => v.Kind).Distinct().Order());
        Assert.Contains(result.Violations, v => v.ToString().StartsWith($"line {expected[0].Line}: shot-before-round-start: A shot B in round 1", StringComparison.Ordinal));
    }

    [Fact]
    public void A_run_stopped_mid_round_is_a_fact_not_a_violation()
    {
        var (events, _) = Simulate(5);
        var cut = events.TakeWhile(e => e.Kind != EventKinds.Winner).ToList();
        var result = ShootoutChecker.Check(cut.Select(Line));
        Assert.True(result.Passed, string.Join("; ", result.Violations));
        Assert.Contains(result.Facts, f => f.Contains("has no winner yet"));
    }

    [Fact]
    public void A_missing_file_is_reported()
    {
        var result = ShootoutChecker.CheckFile(Path.Combine(Path.GetTempPath(), Guid.NewGuid().ToString("N"), "events.jsonl"));
        Assert.False(result.Passed);
    }
}
