using System.Text.Json;
using System.Text.Json.Serialization;
using Corral.Shootout.Config;

namespace Corral.Shootout.Game;

/// <summary>The kinds of <see cref="GameEvent"/>; the words appear in <c>events.jsonl</c>.</summary>
internal static class EventKinds
{
    public const string Registered = "registered";
    public const string RoundStarted = "round-started";
    public const string Shot = "shot";
    public const string Death = "death";
    public const string Winner = "winner";
}

/// <summary>
/// One thing that happened in a game. The game's state is the fold of its events, so the same records
/// are the store's rows, the lines of <c>events.jsonl</c>, the server-sent events and the checker's input.
/// </summary>
internal sealed record GameEvent
{
    public required string Kind { get; init; }

    /// <summary>Position in the run's history: 1, 2, 3, ... without gaps.</summary>
    public required long Seq { get; init; }

    public required int Round { get; init; }
    public required DateTimeOffset Time { get; init; }

    public string? Shooter { get; init; }
    public string? Target { get; init; }

    /// <summary>The shooter's damage (what the shot took off is <see cref="HealthBefore"/> − <see cref="HealthAfter"/>).</summary>
    public int? Damage { get; init; }

    public int? HealthBefore { get; init; }
    public int? HealthAfter { get; init; }

    /// <summary>The tick a shot fell in: floor((time − round start) / tick); 0 for every shot when the tick is 0.</summary>
    public long? Tick { get; init; }

    /// <summary>Peer mode: the leader's beat a shot fell in (the per-beat limit replaces the per-tick one).</summary>
    public long? Beat { get; init; }

    /// <summary>Peer mode: the etcd revision that committed the event (the agreed order; the sequence follows it).</summary>
    public long? Revision { get; init; }

    /// <summary>The cowboy a registration, death or win is about.</summary>
    public string? Cowboy { get; init; }

    /// <summary>The node a registration bound the cowboy to.</summary>
    public string? Node { get; init; }

    /// <summary>On round start: the tick in milliseconds, and the line-up with starting health.</summary>
    public double? TickMs { get; init; }

    public IReadOnlyList<CowboySpec>? Cowboys { get; init; }

    /// <summary>On round start: "peer" when cowboys agreed through etcd (beats, revisions), absent in server mode.</summary>
    public string? Mode { get; init; }
}

/// <summary>Source-generated JSON for the hot path (store, events.jsonl, server-sent events).</summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(GameEvent))]
internal sealed partial class GameEventJson : JsonSerializerContext;
