using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using Corral.Shootout.Game;

namespace Corral.Shootout.Peer;

/// <summary>
/// Where a peer shootout keeps its agreed state in etcd, under one prefix per run (so runs sharing a cluster never
/// meet). <c>ids/NAME</c> and <c>nodes/NODE</c> bind an identity to a node once and forever; <c>cowboys/NAME</c> is
/// the cowboy's permanent state; <c>presence/NAME</c> lives under the process's lease; <c>round</c>, <c>beat</c> and
/// <c>winners/R</c> (the round's winner, written once) are the leader's; <c>log</c> is rewritten by every transaction that changes the game, so etcd's
/// revisions of it are the history.
/// </summary>
internal sealed class PeerKeys(string runId)
{
    public string Prefix { get; } = $"/corral/shootout/{runId}/";
    public string Id(string name) => Prefix + "ids/" + name;
    public string Node(string nodeId) => Prefix + "nodes/" + nodeId;
    public string Cowboy(string name) => Prefix + "cowboys/" + name;
    public string Presence(string name) => Prefix + "presence/" + name;
    public string Round => Prefix + "round";
    public string Beat => Prefix + "beat";
    public string Winner(int round) => Prefix + "winners/" + round.ToString(CultureInfo.InvariantCulture);
    public string Log => Prefix + "log";
    public string Election => Prefix + "leader";
}

/// <summary>A cowboy's permanent state: health in the current round, its last beat, and its totals over the run.</summary>
internal sealed record CowboyRecord
{
    public int Round { get; init; }
    public required int Health { get; init; }

    /// <summary>The beat of its last shot in this round, -1 before the first: at most one shot per beat.</summary>
    public long LastBeat { get; init; } = -1;

    /// <summary>Shots fired this round: the sequence number its target choice derives from.</summary>
    public int Shots { get; init; }

    public long ShotsFired { get; init; }
    public long DamageDealt { get; init; }
    public long DamageTaken { get; init; }
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
[JsonSerializable(typeof(RoundRecord))]
[JsonSerializable(typeof(BeatRecord))]
[JsonSerializable(typeof(RoundWinner))]
[JsonSerializable(typeof(GameEvent[]))]
internal sealed partial class PeerJson : JsonSerializerContext;
