using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Corral.Shootout.Config;
using Corral.Shootout.Game;
using Corral.Shootout.Peer.Etcd;
using Etcdserverpb;
using Google.Protobuf;

namespace Corral.Shootout.Peer;

/// <summary>What one attempt at a shot came to.</summary>
internal enum ShotAttempt
{
    /// <summary>Committed: the target's health changed in the agreed state.</summary>
    Hit,

    /// <summary>Someone changed the shooter, the target or the round since the read: re-read and try again.</summary>
    Conflict,

    /// <summary>Nothing to do in this state (dead, round not running, already fired this beat).</summary>
    NotNow,
}

/// <summary>
/// Every change to a peer game, each one etcd transaction that compares what it read (mod revisions, or absence) and
/// appends its events to the log key in the same transaction. Nothing here holds state between calls.
/// </summary>
internal sealed class PeerGame(EtcdStore etcd, PeerKeys keys, ShootoutConfig config, long seed, TimeProvider time)
{
    public PeerKeys Keys => keys;
    public ShootoutConfig Config => config;
    public long Seed => seed;

    public async Task<PeerState> ReadAsync(CancellationToken ct) =>
        PeerState.Read(await etcd.GetPrefixAsync(keys.Prefix, ct), keys, config);

    /// <summary>
    /// The identity bound to <paramref name="nodeId"/>: its own if it has one (a restarted process takes it back with
    /// whatever health it has), else the first free one in config order, bound for good. Null when every identity
    /// belongs to another node.
    /// </summary>
    public async Task<string?> RegisterAsync(string nodeId, CancellationToken ct)
    {
        var bound = await etcd.GetAsync(keys.Node(nodeId), ct);
        if (bound.Kvs.Count > 0) return bound.Kvs[0].Value.ToStringUtf8();
        foreach (var spec in config.Cowboys)
        {
            var e = new GameEvent { Kind = EventKinds.Registered, Seq = 0, Round = 0, Time = time.GetUtcNow(), Cowboy = spec.Name, Node = nodeId };
            var txn = new TxnRequest
            {
                Compare = { Absent(keys.Id(spec.Name)), Absent(keys.Node(nodeId)) },
                Success = { Put(keys.Id(spec.Name), nodeId), Put(keys.Node(nodeId), spec.Name), Log([e]) },
                Failure = { Get(keys.Node(nodeId)) },
            };
            var result = await etcd.TxnAsync(txn, ct);
            if (result.Succeeded) return spec.Name;
            var mine = result.Responses[0].ResponseRange.Kvs;
            if (mine.Count > 0) return mine[0].Value.ToStringUtf8();
        }

        return null;
    }

    /// <summary>Starts round <paramref name="round"/>: every cowboy back to full health, beat 0. Fails if the round key moved.</summary>
    public async Task<bool> StartRoundAsync(PeerState state, int round, CancellationToken ct)
    {
        var now = time.GetUtcNow();
        var txn = new TxnRequest { Compare = { Unchanged(keys.Round, state.RoundModRevision) } };
        txn.Success.Add(Put(keys.Round, Json(new RoundRecord { Round = round, Over = false, StartedAt = now }, PeerJson.Default.RoundRecord)));
        txn.Success.Add(Put(keys.Beat, Json(new BeatRecord(round, 0), PeerJson.Default.BeatRecord)));
        foreach (var c in state.Cowboys)
        {
            var r = c.Record ?? new CowboyRecord { Health = c.Spec.Health };
            // Shooting records stay: one of an earlier round counts as no shot in this one.
            txn.Success.Add(Put(keys.Cowboy(c.Spec.Name), Json(r with { Round = round, Health = c.Spec.Health }, PeerJson.Default.CowboyRecord)));
        }

        txn.Success.Add(Log([new GameEvent
        {
            Kind = EventKinds.RoundStarted, Seq = 0, Round = round, Time = now, TickMs = config.Tick.TotalMilliseconds, Cowboys = config.Cowboys, Mode = "peer",
        }]));
        return (await etcd.TxnAsync(txn, ct)).Succeeded;
    }

    /// <summary>The leader's next beat; fails (harmlessly) if the round or the beat moved since the read.</summary>
    public async Task<bool> BeatAsync(PeerState state, CancellationToken ct)
    {
        if (state.Round is not { Over: false } round || state.Beat is not { } beat) return false;
        var txn = new TxnRequest
        {
            Compare = { Unchanged(keys.Round, state.RoundModRevision), Unchanged(keys.Beat, state.BeatModRevision) },
            Success = { Put(keys.Beat, Json(new BeatRecord(round.Round, beat.Beat + 1), PeerJson.Default.BeatRecord)) },
        };
        return (await etcd.TxnAsync(txn, ct)).Succeeded;
    }

    /// <summary>
    /// One shot as one transaction that compares only what the shot's rules rest on: the round (still the one read), the
    /// shooter's shooting record (its beat and shot count, which only its own shots write), the absence of the shooter's
    /// death in this round (it was alive when it read, and nothing but a kill makes it dead), and the target's health
    /// record (the damage is computed from it). So a dead cowboy never shoots, nobody dies twice, no damage is lost and a
    /// cowboy fires at most once per beat, while a shot at the shooter, or the target's own shooting, no longer fails the
    /// transaction. Either branch also reads the whole game back, at the transaction's revision: the state the next
    /// attempt acts on, without a read of its own.
    /// </summary>
    public async Task<(ShotAttempt Attempt, GameEvent? Shot, bool Killed, PeerState? Next)> ShootAsync(PeerState state, string shooterName, CancellationToken ct)
    {
        var shooter = state.Find(shooterName);
        if (shooter?.Record is null || state.TargetOf(shooter, seed) is not { Record: not null } target) return (ShotAttempt.NotNow, null, false, null);
        var round = state.Round!.Round;
        var beat = state.Beat?.Beat ?? 0;
        var damage = shooter.Spec.Damage;
        var before = target.Health;
        var after = Math.Max(0, before - damage);
        var now = time.GetUtcNow();
        var shot = new GameEvent
        {
            Kind = EventKinds.Shot, Seq = 0, Round = round, Time = now, Shooter = shooterName, Target = target.Spec.Name,
            Damage = damage, HealthBefore = before, HealthAfter = after, Beat = beat,
        };
        GameEvent[] events = after == 0
            ? [shot, new GameEvent { Kind = EventKinds.Death, Seq = 0, Round = round, Time = now, Cowboy = target.Spec.Name, Shooter = shooterName }]
            : [shot];
        var taken = before - after;
        var fired = shooter.Shooter ?? new ShooterRecord();
        var txn = new TxnRequest
        {
            Compare =
            {
                Unchanged(keys.Round, state.RoundModRevision),
                Unchanged(keys.Shooter(shooterName), shooter.ShooterModRevision),
                Absent(keys.Dead(round, shooterName)),
                Unchanged(keys.Cowboy(target.Spec.Name), target.ModRevision),
            },
            Success =
            {
                Put(keys.Shooter(shooterName), Json(fired with
                {
                    Round = round, LastBeat = beat, Shots = shooter.ShotsIn(round) + 1, ShotsFired = fired.ShotsFired + 1, DamageDealt = fired.DamageDealt + taken,
                }, PeerJson.Default.ShooterRecord)),
                Put(keys.Cowboy(target.Spec.Name), Json(target.Record with { Health = after, DamageTaken = target.Record.DamageTaken + taken }, PeerJson.Default.CowboyRecord)),
                Log(events),
            },
            Failure = { ReadAll() },
        };
        if (after == 0) txn.Success.Add(Put(keys.Dead(round, target.Spec.Name), shooterName));
        txn.Success.Add(ReadAll());
        var result = await etcd.TxnAsync(txn, ct);
        var next = PeerState.Read(result.Responses[^1].ResponseRange.Kvs, result.Header.Revision, keys, config);
        return result.Succeeded ? (ShotAttempt.Hit, shot with { Revision = result.Header.Revision }, after == 0, next) : (ShotAttempt.Conflict, null, false, next);
    }

    /// <summary>Declares the round's sole survivor the winner: create-if-absent on the round's winner key, so a round has one.</summary>
    public async Task<bool> DeclareWinnerAsync(PeerState state, CowboyInEtcd winner, CancellationToken ct)
    {
        var round = state.Round!;
        var now = time.GetUtcNow();
        var txn = new TxnRequest
        {
            Compare = { Absent(keys.Winner(round.Round)), Unchanged(keys.Round, state.RoundModRevision), Unchanged(keys.Cowboy(winner.Spec.Name), winner.ModRevision) },
            Success =
            {
                Put(keys.Winner(round.Round), Json(new RoundWinner(round.Round, winner.Spec.Name, now), PeerJson.Default.RoundWinner)),
                Put(keys.Round, Json(round with { Over = true, Winner = winner.Spec.Name, EndedAt = now }, PeerJson.Default.RoundRecord)),
                Log([new GameEvent { Kind = EventKinds.Winner, Seq = 0, Round = round.Round, Time = now, Cowboy = winner.Spec.Name }]),
            },
        };
        return (await etcd.TxnAsync(txn, ct)).Succeeded;
    }

    private static Compare Absent(string key) =>
        new() { Key = EtcdStore.Bytes(key), Target = Compare.Types.CompareTarget.Create, Result = Compare.Types.CompareResult.Equal, CreateRevision = 0 };

    /// <summary>The key is as read: same mod revision (0 compares "still absent").</summary>
    private static Compare Unchanged(string key, long modRevision) =>
        new() { Key = EtcdStore.Bytes(key), Target = Compare.Types.CompareTarget.Mod, Result = Compare.Types.CompareResult.Equal, ModRevision = modRevision };

    private static RequestOp Put(string key, string value) => new() { RequestPut = new PutRequest { Key = EtcdStore.Bytes(key), Value = EtcdStore.Bytes(value) } };

    private static RequestOp Put(string key, ByteString value) => new() { RequestPut = new PutRequest { Key = EtcdStore.Bytes(key), Value = value } };

    private static RequestOp Get(string key) => new() { RequestRange = new RangeRequest { Key = EtcdStore.Bytes(key) } };

    /// <summary>The whole game, as <see cref="ReadAsync"/> reads it (inside a transaction, it sees the transaction's writes).</summary>
    private RequestOp ReadAll() => new() { RequestRange = new RangeRequest { Key = EtcdStore.Bytes(keys.Prefix), RangeEnd = EtcdStore.PrefixEnd(keys.Prefix) } };

    private RequestOp Log(GameEvent[] events) => Put(keys.Log, Json(events, PeerJson.Default.GameEventArray));

    private static ByteString Json<T>(T value, JsonTypeInfo<T> info) =>
        ByteString.CopyFrom(JsonSerializer.SerializeToUtf8Bytes(value, info));
}
