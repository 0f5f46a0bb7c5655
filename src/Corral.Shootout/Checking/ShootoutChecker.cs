using System.Text.Json;
using Corral.Shootout.Game;

namespace Corral.Shootout.Checking;

/// <summary>The names of the rules a history can break, as the checker reports them.</summary>
internal static class ViolationKinds
{
    public const string MalformedLine = "malformed-line";
    public const string SequenceGap = "sequence-gap";
    public const string RoundOutOfOrder = "round-out-of-order";
    public const string NoWinner = "no-winner";
    public const string WinnerTwice = "winner-twice";
    public const string WrongWinner = "wrong-winner";
    public const string ShotBeforeRoundStart = "shot-before-round-start";
    public const string ShotAfterWinner = "shot-after-winner";
    public const string UnknownCowboy = "unknown-cowboy";
    public const string ShotAtSelf = "shot-at-self";
    public const string ShotByDead = "shot-by-dead";
    public const string ShotAtDead = "shot-at-dead";
    public const string TwoShotsInTick = "two-shots-in-tick";
    public const string WrongTick = "wrong-tick";
    public const string WrongDamage = "wrong-damage";
    public const string WrongHealth = "wrong-health";
    public const string DeathTwice = "death-twice";
    public const string DeathWhileAlive = "death-while-alive";
    public const string DeathNotRecorded = "death-not-recorded";
    public const string TwoShotsInBeat = "two-shots-in-beat";
    public const string RevisionOutOfOrder = "revision-out-of-order";
    public const string MissingRevision = "missing-revision";
}

/// <summary>One broken rule: its kind, the line of <c>events.jsonl</c> (1-based) and what happened.</summary>
internal sealed record Violation(string Kind, int Line, string Message)
{
    public override string ToString() => $"line {Line}: {Kind}: {Message}";
}

/// <summary>The checker's verdict over one history.</summary>
internal sealed record CheckResult(IReadOnlyList<Violation> Violations, IReadOnlyList<string> Facts, IReadOnlyList<RoundWinner> Winners, long Shots)
{
    public bool Passed => Violations.Count == 0;
}

/// <summary>
/// Checks a shootout history (<c>events.jsonl</c>) against the rules, independently of the game code:
/// it rebuilds health from the round-start line-ups and the shots, and names every rule a line breaks.
/// A peer history (rounds started with <c>mode: peer</c>) is checked by its own clock: every event carries the etcd
/// revision that committed it, sequence numbers must follow revision order, and the one-shot limit applies per
/// leader's beat rather than per wall-clock tick (beats pause while a new leader is elected).
/// </summary>
internal static class ShootoutChecker
{
    public const string EventsFile = "events.jsonl";

    public static CheckResult CheckFile(string path) =>
        File.Exists(path)
            ? Check(File.ReadLines(path))
            : new CheckResult([new Violation(ViolationKinds.MalformedLine, 0, $"{path} does not exist: no history was recorded")], [], [], 0);

    public static CheckResult Check(IEnumerable<string> lines)
    {
        var state = new CheckState();
        var lineNumber = 0;
        foreach (var line in lines)
        {
            lineNumber++;
            if (line.Length == 0) continue;
            GameEvent? e;
            try
            {
                e = JsonSerializer.Deserialize(line, GameEventJson.Default.GameEvent);
            }
            catch (JsonException ex)
            {
                state.Violate(ViolationKinds.MalformedLine, lineNumber, $"not a JSON event: {ex.Message}");
                continue;
            }

            if (e is null)
            {
                state.Violate(ViolationKinds.MalformedLine, lineNumber, "not a JSON event: null");
                continue;
            }

            state.Line = lineNumber;
            state.Observe(e);
        }

        state.Line = lineNumber;
        state.EndOfHistory();
        return new CheckResult(state.Violations, state.Facts(), state.Winners, state.Shots);
    }

    private sealed class RoundState(int round, int line, DateTimeOffset start, double tickMs, bool peer)
    {
        public bool Peer { get; } = peer;
        public int Round { get; } = round;
        public int StartLine { get; } = line;
        public DateTimeOffset Start { get; } = start;
        public double TickMs { get; } = tickMs;
        public Dictionary<string, (int Health, int Damage)> Cowboys { get; } = new(StringComparer.Ordinal);
        public HashSet<string> Deaths { get; } = new(StringComparer.Ordinal);
        public HashSet<(string, long)> ShotTicks { get; } = [];
        public int? WinnerLine { get; set; }
        public long Shots { get; set; }
        public int Alive => Cowboys.Values.Count(c => c.Health > 0);
    }

    private sealed class CheckState
    {
        private long _lastSeq;
        private long _lastRevision;
        private bool _peer;
        private RoundState? _round;
        private readonly List<RoundWinner> _winners = [];
        private readonly List<string> _notes = [];

        public List<Violation> Violations { get; } = [];
        public IReadOnlyList<RoundWinner> Winners => _winners;
        public long Shots { get; private set; }
        public int Line { get; set; }

        public void Violate(string kind, int line, string message) => Violations.Add(new Violation(kind, line, message));

        private void Violate(string kind, string message) => Violate(kind, Line, message);

        public void Observe(GameEvent e)
        {
            if (e.Seq != _lastSeq + 1)
            {
                Violate(ViolationKinds.SequenceGap, $"sequence {e.Seq} follows {_lastSeq}");
            }

            _lastSeq = e.Seq;
            if (e.Kind == EventKinds.RoundStarted && e.Mode == "peer") _peer = true;
            if (e.Revision is { } revision)
            {
                // Events of one transaction share its revision; a later sequence number never has an earlier one.
                if (revision < _lastRevision)
                {
                    Violate(ViolationKinds.RevisionOutOfOrder, $"event {e.Seq} has revision {revision}, before the previous event's {_lastRevision}");
                }

                _lastRevision = Math.Max(_lastRevision, revision);
            }
            else if (_peer)
            {
                Violate(ViolationKinds.MissingRevision, $"event {e.Seq} of a peer history carries no etcd revision");
            }

            switch (e.Kind)
            {
                case EventKinds.RoundStarted: RoundStarted(e); break;
                case EventKinds.Shot: Shot(e); break;
                case EventKinds.Death: Death(e); break;
                case EventKinds.Winner: Winner(e); break;
                case EventKinds.Registered: break;
                default: Violate(ViolationKinds.MalformedLine, $"unknown event kind '{e.Kind}'"); break;
            }
        }

        private void RoundStarted(GameEvent e)
        {
            var expected = (_round?.Round ?? 0) + 1;
            if (_round is not null) CloseRound(_round);
            if (e.Round != expected)
            {
                Violate(ViolationKinds.RoundOutOfOrder, $"round {e.Round} starts where round {expected} was due");
            }

            if (e.Cowboys is null || e.Cowboys.Count < 2)
            {
                Violate(ViolationKinds.MalformedLine, $"round {e.Round} starts without a line-up of at least 2 cowboys");
            }

            _round = new RoundState(e.Round, Line, e.Time, e.TickMs ?? 0, e.Mode == "peer");
            foreach (var cowboy in e.Cowboys ?? [])
            {
                _round.Cowboys[cowboy.Name] = (cowboy.Health, cowboy.Damage);
            }
        }

        private void Shot(GameEvent e)
        {
            Shots++;
            var round = _round;
            var shooter = e.Shooter ?? "?";
            var target = e.Target ?? "?";
            var what = $"{shooter} shot {target} in round {e.Round}";
            if (round is null || round.Round != e.Round || e.Time < round.Start)
            {
                Violate(ViolationKinds.ShotBeforeRoundStart, $"{what} before that round started");
                return;
            }

            round.Shots++;
            if (round.WinnerLine is { } winnerLine)
            {
                Violate(ViolationKinds.ShotAfterWinner, $"{what} after its winner (line {winnerLine})");
            }

            if (!round.Cowboys.TryGetValue(shooter, out var s) || !round.Cowboys.TryGetValue(target, out var t))
            {
                Violate(ViolationKinds.UnknownCowboy, $"{what}, but the round's line-up has no {(round.Cowboys.ContainsKey(shooter) ? target : shooter)}");
                return;
            }

            if (shooter == target) Violate(ViolationKinds.ShotAtSelf, $"{shooter} shot itself in round {e.Round}");
            if (s.Health <= 0) Violate(ViolationKinds.ShotByDead, $"{what}, but {shooter} was dead");
            if (t.Health <= 0) Violate(ViolationKinds.ShotAtDead, $"{what}, but {target} was already dead");
            if (round.Peer)
            {
                if (round.TickMs > 0 && !round.ShotTicks.Add((shooter, e.Beat ?? -1)))
                {
                    Violate(ViolationKinds.TwoShotsInBeat, $"{shooter} fired twice in beat {e.Beat} of round {e.Round}");
                }
            }
            else if (round.TickMs > 0)
            {
                var tick = e.Tick ?? -1;
                // In whole 100 ns ticks, as the server counts, so no floating-point rounding sits on a tick boundary.
                var tickLength = (long)Math.Round(round.TickMs * TimeSpan.TicksPerMillisecond);
                var elapsed = (e.Time - round.Start).Ticks;
                var expectedTick = elapsed <= 0 ? 0 : elapsed / tickLength;
                if (tick != expectedTick)
                {
                    Violate(ViolationKinds.WrongTick, $"{what} at {e.Time:O}, which is tick {expectedTick}, but the line says tick {tick}");
                }

                if (!round.ShotTicks.Add((shooter, tick)))
                {
                    Violate(ViolationKinds.TwoShotsInTick, $"{shooter} fired twice in tick {tick} of round {e.Round}");
                }
            }

            if (e.Damage != s.Damage)
            {
                Violate(ViolationKinds.WrongDamage, $"{what} for {e.Damage} damage, but {shooter}'s damage is {s.Damage}");
            }

            var expectedAfter = Math.Max(0, t.Health - s.Damage);
            if (e.HealthBefore != t.Health || e.HealthAfter != expectedAfter)
            {
                Violate(ViolationKinds.WrongHealth,
                    $"{what}: {target}'s health went {e.HealthBefore} → {e.HealthAfter}, but it was {t.Health} and max(0, {t.Health} − {s.Damage}) = {expectedAfter}");
            }

            round.Cowboys[target] = (e.HealthAfter ?? expectedAfter, t.Damage);
        }

        private void Death(GameEvent e)
        {
            var name = e.Cowboy ?? "?";
            if (_round is null || _round.Round != e.Round || !_round.Cowboys.TryGetValue(name, out var c))
            {
                Violate(ViolationKinds.UnknownCowboy, $"death of {name} in round {e.Round}, who is not in a running round's line-up");
                return;
            }

            if (!_round.Deaths.Add(name))
            {
                Violate(ViolationKinds.DeathTwice, $"{name} died a second time in round {e.Round}");
            }
            else if (c.Health > 0)
            {
                Violate(ViolationKinds.DeathWhileAlive, $"{name} is recorded dead in round {e.Round} with health {c.Health}");
            }
        }

        private void Winner(GameEvent e)
        {
            var name = e.Cowboy ?? "?";
            if (_round is null || _round.Round != e.Round)
            {
                Violate(ViolationKinds.WrongWinner, $"{name} wins round {e.Round}, which is not the running round");
                return;
            }

            if (_round.WinnerLine is { } first)
            {
                Violate(ViolationKinds.WinnerTwice, $"round {e.Round} already has a winner (line {first}); now {name}");
                return;
            }

            _round.WinnerLine = Line;
            var alive = _round.Cowboys.Where(c => c.Value.Health > 0).Select(c => c.Key).ToArray();
            if (alive.Length != 1 || alive[0] != name)
            {
                Violate(ViolationKinds.WrongWinner, $"{name} wins round {e.Round}, but the cowboys alive are [{string.Join(", ", alive)}]");
            }

            _winners.Add(new RoundWinner(e.Round, name, e.Time));
        }

        private void CloseRound(RoundState round)
        {
            foreach (var (name, c) in round.Cowboys)
            {
                if (c.Health <= 0 && !round.Deaths.Contains(name))
                {
                    Violate(ViolationKinds.DeathNotRecorded, $"{name} reached health 0 in round {round.Round} but no death was recorded");
                }
            }

            if (round.WinnerLine is null)
            {
                Violate(ViolationKinds.NoWinner, $"round {round.Round} (started line {round.StartLine}) ended without a winner");
            }
        }

        public void EndOfHistory()
        {
            if (_round is null)
            {
                _notes.Add("no round started");
                return;
            }

            if (_round.WinnerLine is null)
            {
                // A run stopped mid-round has an open last round: that is a fact, not a broken rule.
                _notes.Add($"round {_round.Round} has no winner yet ({_round.Alive} cowboys alive)");
                foreach (var (name, c) in _round.Cowboys)
                {
                    if (c.Health <= 0 && !_round.Deaths.Contains(name))
                    {
                        Violate(ViolationKinds.DeathNotRecorded, $"{name} reached health 0 in round {_round.Round} but no death was recorded");
                    }
                }
            }
            else
            {
                CloseRound(_round);
            }
        }

        public IReadOnlyList<string> Facts()
        {
            var facts = new List<string> { $"{_lastSeq} events, {Shots} shots" };
            facts.AddRange(_winners.Select(w => $"round {w.Round}: {w.Winner} wins"));
            facts.AddRange(_notes);
            return facts;
        }
    }
}
