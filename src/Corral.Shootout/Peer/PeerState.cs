using System.Text.Json;
using Corral.Node.Randomness;
using Corral.Shootout.Config;
using Corral.Shootout.Game;
using Corral.Shootout.Server;
using Etcdserverpb;

namespace Corral.Shootout.Peer;

/// <summary>
/// One cowboy as read from etcd: its health record and its shooting record, each with the mod revision a transaction
/// compares (0: absent).
/// </summary>
internal sealed record CowboyInEtcd(CowboySpec Spec, int Index, CowboyRecord? Record, long ModRevision, ShooterRecord? Shooter, long ShooterModRevision,
    string? Node, bool Present)
{
    public int Health => Record is { } r ? r.Health : Spec.Health;
    public bool Alive => Health > 0;

    /// <summary>Its shots in <paramref name="round"/>: 0 while its shooting record is of an earlier round.</summary>
    public int ShotsIn(int round) => Shooter is { } s && s.Round == round ? s.Shots : 0;

    /// <summary>The beat of its last shot in <paramref name="round"/>, -1 before the first.</summary>
    public long LastBeatIn(int round) => Shooter is { } s && s.Round == round ? s.LastBeat : -1;
}

/// <summary>
/// The agreed game at one etcd revision, read in one range over the run's prefix. Pure: the rules a cowboy and the
/// leader act on (who may shoot, at whom, whether a round is won) are methods of this snapshot.
/// </summary>
internal sealed class PeerState
{
    private PeerState(ShootoutConfig config, long revision)
    {
        Config = config;
        Revision = revision;
    }

    public ShootoutConfig Config { get; }
    public long Revision { get; }
    public IReadOnlyList<CowboyInEtcd> Cowboys { get; private set; } = [];
    public RoundRecord? Round { get; private set; }
    public long RoundModRevision { get; private set; }
    public BeatRecord? Beat { get; private set; }
    public long BeatModRevision { get; private set; }
    public SortedDictionary<int, RoundWinner> Winners { get; } = [];
    public string? Leader { get; set; }

    public int Registered => Cowboys.Count(c => c.Node is not null);
    public int AliveCount => Cowboys.Count(c => c.Alive);
    public bool Running => Round is { Over: false };
    public bool Finished => Round is { Over: true } r && r.Round >= Config.Rounds;

    public CowboyInEtcd? Find(string name) => Cowboys.FirstOrDefault(c => c.Spec.Name == name);

    public static PeerState Read(RangeResponse range, PeerKeys keys, ShootoutConfig config) => Read(range.Kvs, range.Header.Revision, keys, config);

    /// <summary>The state in <paramref name="kvs"/>, a range over the whole prefix at <paramref name="revision"/> (alone, or inside a transaction).</summary>
    public static PeerState Read(IEnumerable<Mvccpb.KeyValue> kvs, long revision, PeerKeys keys, ShootoutConfig config)
    {
        var state = new PeerState(config, revision);
        var records = new Dictionary<string, (CowboyRecord Record, long Mod)>(StringComparer.Ordinal);
        var shooters = new Dictionary<string, (ShooterRecord Record, long Mod)>(StringComparer.Ordinal);
        var nodes = new Dictionary<string, string>(StringComparer.Ordinal);
        var present = new HashSet<string>(StringComparer.Ordinal);
        foreach (var kv in kvs)
        {
            var key = kv.Key.ToStringUtf8();
            if (!key.StartsWith(keys.Prefix, StringComparison.Ordinal)) continue;
            var rest = key[keys.Prefix.Length..];
            var value = kv.Value.Span;
            if (rest.StartsWith("play/health/", StringComparison.Ordinal))
            {
                records[rest["play/health/".Length..]] = (JsonSerializer.Deserialize(value, PeerJson.Default.CowboyRecord)!, kv.ModRevision);
            }
            else if (rest.StartsWith("play/shooters/", StringComparison.Ordinal))
            {
                shooters[rest["play/shooters/".Length..]] = (JsonSerializer.Deserialize(value, PeerJson.Default.ShooterRecord)!, kv.ModRevision);
            }
            else if (rest.StartsWith("ids/", StringComparison.Ordinal))
            {
                nodes[rest["ids/".Length..]] = kv.Value.ToStringUtf8();
            }
            else if (rest.StartsWith("presence/", StringComparison.Ordinal))
            {
                present.Add(rest["presence/".Length..]);
            }
            else if (rest.StartsWith("winners/", StringComparison.Ordinal) && int.TryParse(rest["winners/".Length..], out var round))
            {
                state.Winners[round] = JsonSerializer.Deserialize(value, PeerJson.Default.RoundWinner)!;
            }
            else if (rest == "round")
            {
                state.Round = JsonSerializer.Deserialize(value, PeerJson.Default.RoundRecord);
                state.RoundModRevision = kv.ModRevision;
            }
            else if (rest == "beat")
            {
                state.Beat = JsonSerializer.Deserialize(value, PeerJson.Default.BeatRecord);
                state.BeatModRevision = kv.ModRevision;
            }
        }

        state.Cowboys = config.Cowboys.Select((spec, i) =>
        {
            var found = records.TryGetValue(spec.Name, out var r);
            var shot = shooters.TryGetValue(spec.Name, out var s);
            return new CowboyInEtcd(spec, i, found ? r.Record : null, found ? r.Mod : 0, shot ? s.Record : null, shot ? s.Mod : 0,
                nodes.GetValueOrDefault(spec.Name), present.Contains(spec.Name));
        }).ToArray();
        return state;
    }

    /// <summary>
    /// The target of <paramref name="shooter"/>'s next shot, or null when it may not shoot now: the round is not running,
    /// it is dead, or (with a tick) it already fired in the current beat. The choice derives from (seed, round, shooter,
    /// its shot number), as in server mode, so leading or arrival order gives no advantage.
    /// </summary>
    public CowboyInEtcd? TargetOf(CowboyInEtcd shooter, long seed)
    {
        if (Round is not { Over: false } round || !shooter.Alive || shooter.Record?.Round != round.Round) return null;
        if (Config.Tick > TimeSpan.Zero && (Beat is not { } beat || beat.Round != round.Round || shooter.LastBeatIn(round.Round) >= beat.Beat)) return null;
        var rivals = Cowboys.Where(c => c.Alive && c != shooter).ToArray();
        if (rivals.Length == 0) return null;
        return rivals[SeededRandom.Below(SeededRandom.Derive(seed, round.Round, shooter.Index, shooter.ShotsIn(round.Round)), rivals.Length)];
    }

    /// <summary>The one cowboy alive in a running round: the winner the leader declares.</summary>
    public CowboyInEtcd? SoleSurvivor() => Running && AliveCount == 1 ? Cowboys.Single(c => c.Alive) : null;

    public string Status =>
        Round switch
        {
            null => "registering",
            { Over: false } => "running",
            { Round: var r } when r >= Config.Rounds => "finished",
            _ => "intermission",
        };

    /// <summary>What <c>GET /state</c> shows, in server mode's shape (the sequence is the etcd revision).</summary>
    public GameSnapshot ToSnapshot() => new()
    {
        Round = Round?.Round ?? 0,
        Rounds = Config.Rounds,
        Status = Status,
        TickMs = Config.Tick.TotalMilliseconds,
        RoundStartedAt = Round?.StartedAt,
        NextRoundAt = Round is { Over: true, EndedAt: { } ended } r && r.Round < Config.Rounds ? ended + Config.Intermission : null,
        Seq = Revision,
        Leader = Leader,
        Winners = Winners.Values.ToArray(),
        Cowboys = Cowboys.Select(c => new CowboyView
        {
            Name = c.Spec.Name, Health = c.Health, MaxHealth = c.Spec.Health, Damage = c.Spec.Damage, Alive = c.Alive,
            Node = c.Node is null ? null : c.Present ? c.Node : $"{c.Node} (away)",
            ShotsFired = c.Shooter?.ShotsFired ?? 0, DamageDealt = c.Shooter?.DamageDealt ?? 0, DamageTaken = c.Record?.DamageTaken ?? 0,
            Wins = Winners.Values.Count(w => w.Winner == c.Spec.Name),
        }).ToArray(),
    };
}
