using System.Text.Json;
using System.Text.Json.Serialization;
using Corral.Node.Storage;

namespace Corral.Shootout.Config;

/// <summary>How the cowboys agree on the game: through a game server (seed 000) or as peers (seed 001).</summary>
[JsonConverter(typeof(JsonStringEnumConverter<ShootoutMode>))]
public enum ShootoutMode
{
    Server,
    Peer,
}

/// <summary>One cowboy as configured: its name, the health it starts every round with, the damage of each of its shots.</summary>
public sealed record CowboySpec
{
    public required string Name { get; init; }
    public required int Health { get; init; }
    public required int Damage { get; init; }
}

/// <summary>A validated shootout: what every node of the run reads from the supervisor.</summary>
public sealed record ShootoutConfig
{
    public static readonly TimeSpan DefaultTick = TimeSpan.FromSeconds(1);
    public static readonly TimeSpan DefaultIntermission = TimeSpan.FromSeconds(1);

    public ShootoutMode Mode { get; init; } = ShootoutMode.Server;

    /// <summary>At most one shot per cowboy per tick; zero lifts the limit (benchmarks).</summary>
    public TimeSpan Tick { get; init; } = DefaultTick;

    /// <summary>The seed of every random choice; null means "the run's seed" (<c>corral up --seed</c>).</summary>
    public long? Seed { get; init; }

    public int Rounds { get; init; } = 1;

    /// <summary>The pause between a round's winner and the next round's start.</summary>
    public TimeSpan Intermission { get; init; } = DefaultIntermission;

    public required IReadOnlyList<CowboySpec> Cowboys { get; init; }

    /// <summary>Peer mode: the etcd cluster's client URLs, comma-separated; null runs a throwaway etcd as a role of the plan.</summary>
    public string? Etcd { get; init; }

    /// <summary>Whether each group commit is fsynced (fsync, the default: the promise is "no acknowledged write is lost", power cuts included) or only handed to the OS (sync: survives kill -9, not a power cut).</summary>
    public Durability Durability { get; init; } = Durability.Fsync;

    public JsonElement ToJson() => JsonSerializer.SerializeToElement(this, ShootoutJson.Default.ShootoutConfig);

    public static ShootoutConfig FromJson(JsonElement json) =>
        json.Deserialize(ShootoutJson.Default.ShootoutConfig)
        ?? throw new InvalidOperationException("the shootout config from the supervisor is empty");
}
