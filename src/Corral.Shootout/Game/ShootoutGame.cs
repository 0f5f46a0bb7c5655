using Corral.Node.Randomness;
using Corral.Shootout.Config;

namespace Corral.Shootout.Game;

/// <summary>Where a game stands.</summary>
internal enum GameStatus
{
    /// <summary>Waiting until every identity is bound to a node.</summary>
    Registering,

    Running,

    /// <summary>A round has a winner; the next starts at <see cref="ShootoutGame.NextRoundAt"/>.</summary>
    Intermission,

    /// <summary>The last round has a winner.</summary>
    Finished,
}

/// <summary>One round's winner.</summary>
internal sealed record RoundWinner(int Round, string Winner, DateTimeOffset At);

/// <summary>
/// The rules of a server-mode shootout, as a pure state machine. Commands (<see cref="Register"/>,
/// <see cref="Shoot"/>, <see cref="Advance"/>) check the rules against the current state and emit
/// events; state changes only by <see cref="Apply"/>, which is also how a restarted server replays its
/// store, so live play and replay cannot disagree. Not thread-safe: one writer owns it.
/// </summary>
internal sealed class ShootoutGame
{
    private readonly List<CowboyState> _cowboys;
    private readonly Dictionary<string, CowboyState> _byName = new(StringComparer.Ordinal);
    private readonly Dictionary<string, CowboyState> _byNode = new(StringComparer.Ordinal);
    private readonly List<RoundWinner> _winners = [];
    private readonly List<CowboyState> _rivals = [];
    private int _alive;

    public ShootoutGame(ShootoutConfig config, long seed)
    {
        Config = config;
        Seed = seed;
        _cowboys = config.Cowboys.Select((spec, i) => new CowboyState(spec, i)).ToList();
        foreach (var cowboy in _cowboys) _byName[cowboy.Name] = cowboy;
        _alive = _cowboys.Count;
    }

    public ShootoutConfig Config { get; }
    public long Seed { get; }
    public IReadOnlyList<CowboyState> Cowboys => _cowboys;
    public IReadOnlyList<RoundWinner> Winners => _winners;
    public GameStatus Status { get; private set; } = GameStatus.Registering;

    /// <summary>The current (or last) round, 0 before the first starts.</summary>
    public int Round { get; private set; }

    public DateTimeOffset? RoundStartedAt { get; private set; }
    public DateTimeOffset? FirstRoundStartedAt { get; private set; }
    public DateTimeOffset? NextRoundAt { get; private set; }
    public DateTimeOffset? FinishedAt { get; private set; }
    public long LastSeq { get; private set; }
    public int AliveCount => _alive;
    public int RegisteredCount => _byNode.Count;

    public CowboyState? Find(string name) => _byName.GetValueOrDefault(name);

    /// <summary>The identity bound to <paramref name="nodeId"/>, binding the first free one in config order if it has none.</summary>
    public RegisterOutcome Register(string nodeId, DateTimeOffset now, List<GameEvent> events)
    {
        if (!ShootoutConfigReader.IsValidName(nodeId))
        {
            return new RegisterOutcome(null, new Refused(Refusal.BadNodeId,
                $"node id '{nodeId}' is not valid: use 1 to {ShootoutConfigReader.MaxNameLength} letters, digits, '-' or '_'"));
        }

        // A restarted node gets its own identity back, with whatever health it has now.
        if (_byNode.TryGetValue(nodeId, out var bound))
        {
            return new RegisterOutcome(bound.Name, null);
        }

        var free = _cowboys.FirstOrDefault(c => c.Node is null);
        if (free is null)
        {
            return new RegisterOutcome(null, new Refused(Refusal.NoIdentityLeft,
                $"all {_cowboys.Count} identities are bound to other nodes ({string.Join(", ", _cowboys.Select(c => $"{c.Name}: {c.Node}"))})"));
        }

        Emit(events, new GameEvent { Kind = EventKinds.Registered, Seq = LastSeq + 1, Round = Round, Time = now, Cowboy = free.Name, Node = nodeId });
        if (Status == GameStatus.Registering && _byNode.Count == _cowboys.Count)
        {
            StartRound(1, now, events);
        }

        return new RegisterOutcome(free.Name, null);
    }

    /// <summary>Starts the next round if the intermission is over at <paramref name="now"/>.</summary>
    public void Advance(DateTimeOffset now, List<GameEvent> events)
    {
        if (Status == GameStatus.Intermission && NextRoundAt is { } next && now >= next)
        {
            StartRound(Round + 1, now, events);
        }
    }

    /// <summary>The pause a registered cowboy is asked for before it tries again while the first round is not yet full.</summary>
    internal static readonly TimeSpan RegistrationRetryFloor = TimeSpan.FromMilliseconds(200);

    /// <summary>At most this long, so a cowboy asked when many were missing still learns of the start soon after it.</summary>
    internal static readonly TimeSpan RegistrationRetryCap = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Faster than the fastest joins seen (a native cowboy on two cores needs 100–200 ms of CPU to start and register), so
    /// a wait of this much per missing cowboy ends before the last of them has registered.
    /// </summary>
    internal static readonly TimeSpan RegistrationRetryPerMissing = TimeSpan.FromMilliseconds(20);

    /// <summary>
    /// How long a registered cowboy should wait before shooting again while others are still registering: longer the
    /// more are missing. A fixed pause made every waiting cowboy ask once a tick, so the cost of waiting grew with the
    /// cowboys already in and slowed the joins of the rest (500 cowboys: 14 registrations a second at first, 6 at the end).
    /// </summary>
    private TimeSpan WaitForRegistrations()
    {
        var missing = _cowboys.Count - _byNode.Count;
        var wait = RegistrationRetryPerMissing * missing;
        return wait < RegistrationRetryFloor ? RegistrationRetryFloor : wait > RegistrationRetryCap ? RegistrationRetryCap : wait;
    }

    /// <summary>
    /// One shot, as one atomic step: who may shoot, at whom, for how much, and whether it ends the round.
    /// A refused shot changes nothing.
    /// </summary>
    public ShotOutcome Shoot(string shooterName, string nodeId, DateTimeOffset now, List<GameEvent> events)
    {
        Advance(now, events);
        if (!_byName.TryGetValue(shooterName, out var shooter))
        {
            return ShotOutcome.Of(Refusal.UnknownShooter, $"there is no cowboy named '{shooterName}'");
        }

        if (shooter.Node != nodeId)
        {
            return ShotOutcome.Of(Refusal.NotYourIdentity, shooter.Node is null
                ? $"{shooterName} is not registered yet: POST /register first"
                : $"{shooterName} belongs to node {shooter.Node}, not {nodeId}");
        }

        switch (Status)
        {
            case GameStatus.Registering:
                return ShotOutcome.Of(Refusal.RoundNotRunning,
                    $"the shootout has not started: {_byNode.Count} of {_cowboys.Count} cowboys have registered", WaitForRegistrations());
            case GameStatus.Intermission:
                return ShotOutcome.Of(Refusal.RoundNotRunning,
                    $"round {Round} is over ({_winners[^1].Winner} won); round {Round + 1} starts at {NextRoundAt:O}", NextRoundAt - now);
            case GameStatus.Finished:
                return ShotOutcome.Of(Refusal.RoundNotRunning, $"the shootout is over after {Round} round(s)");
        }

        if (!shooter.Alive)
        {
            return ShotOutcome.Of(Refusal.ShooterDead, $"{shooterName} is dead until round {Round + 1}", round: Round);
        }

        var tick = TickOf(now);
        if (Config.Tick > TimeSpan.Zero && shooter.LastTick == tick)
        {
            var nextTick = RoundStartedAt!.Value + Config.Tick * (tick + 1);
            return ShotOutcome.Of(Refusal.SameTick, $"{shooterName} already fired in tick {tick}; the next tick starts at {nextTick:O}", nextTick - now);
        }

        _rivals.Clear();
        foreach (var cowboy in _cowboys)
        {
            if (cowboy.Alive && cowboy != shooter) _rivals.Add(cowboy);
        }

        // A running round always has ≥ 2 live cowboys (it ends when one is left), so a live shooter has a rival.
        var pick = SeededRandom.Below(SeededRandom.Derive(Seed, Round, shooter.Index, shooter.ShotsThisRound), _rivals.Count);
        var target = _rivals[pick];
        var before = target.Health;
        var after = Math.Max(0, before - shooter.Spec.Damage);
        var shot = new GameEvent
        {
            Kind = EventKinds.Shot, Seq = LastSeq + 1, Round = Round, Time = now, Shooter = shooter.Name, Target = target.Name,
            Damage = shooter.Spec.Damage, HealthBefore = before, HealthAfter = after, Tick = tick,
        };
        Emit(events, shot);
        string? winner = null;
        if (after == 0)
        {
            Emit(events, new GameEvent { Kind = EventKinds.Death, Seq = LastSeq + 1, Round = Round, Time = now, Cowboy = target.Name, Shooter = shooter.Name });
            if (_alive == 1)
            {
                winner = shooter.Name;
                Emit(events, new GameEvent { Kind = EventKinds.Winner, Seq = LastSeq + 1, Round = Round, Time = now, Cowboy = winner });
            }
        }

        return new ShotOutcome(new ShotReport
        {
            Round = shot.Round, Seq = shot.Seq, Shooter = shooter.Name, Target = target.Name, Damage = shooter.Spec.Damage,
            TargetHealthBefore = before, TargetHealthAfter = after, Tick = tick, Killed = after == 0, Winner = winner,
        }, null);
    }

    /// <summary>The tick <paramref name="now"/> falls in during the current round; always 0 when the tick is 0.</summary>
    public long TickOf(DateTimeOffset now)
    {
        if (Config.Tick <= TimeSpan.Zero || RoundStartedAt is not { } start) return 0;
        var elapsed = now - start;
        return elapsed <= TimeSpan.Zero ? 0 : elapsed.Ticks / Config.Tick.Ticks;
    }

    private void StartRound(int round, DateTimeOffset now, List<GameEvent> events) =>
        Emit(events, new GameEvent
        {
            Kind = EventKinds.RoundStarted, Seq = LastSeq + 1, Round = round, Time = now,
            TickMs = Config.Tick.TotalMilliseconds, Cowboys = Config.Cowboys,
        });

    private void Emit(List<GameEvent> events, GameEvent e)
    {
        Apply(e);
        events.Add(e);
    }

    /// <summary>Changes the state by one event; used by live play and by replay from the store.</summary>
    public void Apply(GameEvent e)
    {
        if (e.Seq != LastSeq + 1)
        {
            throw new InvalidOperationException($"event {e.Seq} does not follow {LastSeq}: the history has a gap");
        }

        LastSeq = e.Seq;
        switch (e.Kind)
        {
            case EventKinds.Registered:
            {
                var cowboy = _byName[e.Cowboy!];
                if (cowboy.Node is not null) _byNode.Remove(cowboy.Node);
                cowboy.Node = e.Node;
                _byNode[e.Node!] = cowboy;
                break;
            }

            case EventKinds.RoundStarted:
                Round = e.Round;
                Status = GameStatus.Running;
                RoundStartedAt = e.Time;
                FirstRoundStartedAt ??= e.Time;
                NextRoundAt = null;
                foreach (var cowboy in _cowboys)
                {
                    cowboy.Health = cowboy.Spec.Health;
                    cowboy.ShotsThisRound = 0;
                    cowboy.LastTick = -1;
                }

                _alive = _cowboys.Count;
                break;

            case EventKinds.Shot:
            {
                var shooter = _byName[e.Shooter!];
                var target = _byName[e.Target!];
                var taken = target.Health - e.HealthAfter!.Value;
                shooter.ShotsThisRound++;
                shooter.LastTick = e.Tick ?? 0;
                shooter.ShotsFired++;
                shooter.DamageDealt += taken;
                target.DamageTaken += taken;
                target.Health = e.HealthAfter.Value;
                break;
            }

            case EventKinds.Death:
                _alive--;
                break;

            case EventKinds.Winner:
                _byName[e.Cowboy!].Wins++;
                _winners.Add(new RoundWinner(e.Round, e.Cowboy!, e.Time));
                if (e.Round >= Config.Rounds)
                {
                    Status = GameStatus.Finished;
                    FinishedAt = e.Time;
                }
                else
                {
                    Status = GameStatus.Intermission;
                    NextRoundAt = e.Time + Config.Intermission;
                }

                break;

            default:
                throw new InvalidOperationException($"unknown event kind '{e.Kind}' at {e.Seq}");
        }
    }
}
