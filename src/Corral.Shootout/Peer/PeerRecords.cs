using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using Corral.Shootout.Game;
using Corral.Shootout.Peer.Etcd;
using Google.Protobuf;

namespace Corral.Shootout.Peer;

/// <summary>
/// Where a peer shootout keeps its agreed state in etcd, under one prefix per run (so runs sharing a cluster never
/// meet). <c>ids/NAME</c> and <c>nodes/NODE</c> bind an identity to a node once and forever; <c>presence/NAME</c> lives
/// under the process's lease; <c>round</c>, <c>beat</c> and <c>winners/R</c> (the round's winner, written once) are the
/// leader's; <c>dead/R/NAME</c> is created by the shot that kills NAME in round R. What every shot rewrites is under
/// <c>play/</c>: <c>play/health/NAME</c> (written by the round's start and by shots at NAME), <c>play/shooters/NAME</c>
/// (written only by NAME's own shots, so a shot at a cowboy never moves what that cowboy's next shot compares) and
/// <c>play/log</c>, rewritten by every transaction that changes the game, so etcd's revisions of it are the history.
/// Waiters watch everything but <c>play/</c>: a shot wakes nobody unless it kills.
/// </summary>
internal sealed class PeerKeys(string runId)
{
    public string Prefix { get; } = $"/corral/shootout/{runId}/";
    public string Id(string name) => Prefix + "ids/" + name;
    public string Node(string nodeId) => Prefix + "nodes/" + nodeId;
    public string Play => Prefix + "play/";
    public string Cowboy(string name) => Play + "health/" + name;
    public string Shooter(string name) => Play + "shooters/" + name;
    public string Dead(int round, string name) => Prefix + "dead/" + round.ToString(CultureInfo.InvariantCulture) + "/" + name;
    public string Presence(string name) => Prefix + "presence/" + name;
    public string Round => Prefix + "round";
    public string Beat => Prefix + "beat";
    public string Winner(int round) => Prefix + "winners/" + round.ToString(CultureInfo.InvariantCulture);
    public string Log => Play + "log";

    /// <summary>The key ranges a waiter watches: the run's prefix without <c>play/</c>, before it and after it.</summary>
    public IReadOnlyList<(ByteString From, ByteString To)> Signals =>
    [
        (EtcdStore.Bytes(Prefix), EtcdStore.Bytes(Play)),
        (EtcdStore.PrefixEnd(Play), EtcdStore.PrefixEnd(Prefix)),
    ];
    public string Election => Prefix + "leader";
}

/// <summary>A cowboy's health in the current round and the damage it has taken over the run: what shots at it change.</summary>
internal sealed record CowboyRecord
{
    public int Round { get; init; }
    public required int Health { get; init; }
    public long DamageTaken { get; init; }
}

/// <summary>
/// What a cowboy's own shots change, and nothing else does: its last beat and shot count in <see cref="Round"/> (a
/// record of an earlier round counts as no shot yet, so a round's start need not rewrite it) and its totals over the run.
/// </summary>
internal sealed record ShooterRecord
{
    public int Round { get; init; }

    /// <summary>The beat of its last shot in <see cref="Round"/>: at most one shot per beat.</summary>
    public long LastBeat { get; init; } = -1;

    /// <summary>Shots fired in <see cref="Round"/>: the sequence number its target choice derives from.</summary>
    public int Shots { get; init; }

    public long ShotsFired { get; init; }
    public long DamageDealt { get; init; }
}

/// <summary>The round the leader last started, and whether it is over.</summary>
internal sealed record RoundRecord
{
    public required int Round { get; init; }
    public required bool Over { get; init; }
    public required DateTimeOffset StartedAt { get; init; }
    public string? Winner { get; init; }
    public DateTimeOffset? EndedAt { get; init; }
}

/// <summary>The leader's beat: the tick of a peer game.</summary>
internal sealed record BeatRecord(int Round, long Beat);

/// <summary>Source-generated JSON for the records a peer game keeps in etcd.</summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(CowboyRecord))]
[JsonSerializable(typeof(ShooterRecord))]
[JsonSerializable(typeof(RoundRecord))]
[JsonSerializable(typeof(BeatRecord))]
[JsonSerializable(typeof(RoundWinner))]
[JsonSerializable(typeof(GameEvent[]))]
internal sealed partial class PeerJson : JsonSerializerContext;
