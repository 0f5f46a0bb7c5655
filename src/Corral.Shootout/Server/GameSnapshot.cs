using Corral.Shootout.Game;

namespace Corral.Shootout.Server;

/// <summary>One cowboy as <c>GET /state</c> shows it.</summary>
internal sealed record CowboyView
{
    public required string Name { get; init; }
    public required int Health { get; init; }
    public required int MaxHealth { get; init; }
    public required int Damage { get; init; }
    public required bool Alive { get; init; }
    public string? Node { get; init; }
    public long ShotsFired { get; init; }
    public long DamageDealt { get; init; }
    public long DamageTaken { get; init; }
    public int Wins { get; init; }
}

/// <summary>The game's durable state after a committed batch (<c>GET /state</c>).</summary>
internal sealed record GameSnapshot
{
    public required int Round { get; init; }
    public required int Rounds { get; init; }
    public required string Status { get; init; }
    public required double TickMs { get; init; }
    public DateTimeOffset? RoundStartedAt { get; init; }
    public DateTimeOffset? NextRoundAt { get; init; }
    public required long Seq { get; init; }

    /// <summary>Peer mode: the cowboy that leads (keeps the beat); null in server mode.</summary>
    public string? Leader { get; init; }

    public required IReadOnlyList<RoundWinner> Winners { get; init; }
    public required IReadOnlyList<CowboyView> Cowboys { get; init; }

    public static GameSnapshot Of(ShootoutGame game) => new()
    {
        Round = game.Round,
        Rounds = game.Config.Rounds,
        Status = game.Status.ToString().ToLowerInvariant(),
        TickMs = game.Config.Tick.TotalMilliseconds,
        RoundStartedAt = game.RoundStartedAt,
        NextRoundAt = game.NextRoundAt,
        Seq = game.LastSeq,
        Winners = game.Winners.ToArray(),
        Cowboys = game.Cowboys.Select(c => new CowboyView
        {
            Name = c.Name, Health = c.Health, MaxHealth = c.Spec.Health, Damage = c.Spec.Damage, Alive = c.Alive, Node = c.Node,
            ShotsFired = c.ShotsFired, DamageDealt = c.DamageDealt, DamageTaken = c.DamageTaken, Wins = c.Wins,
        }).ToArray(),
    };
}

/// <summary>Per-cowboy totals over the run, for the outcome report.</summary>
internal sealed record CowboyTotals(string Name, int Wins, long ShotsFired, long DamageDealt, long DamageTaken);

/// <summary>The summary the server reports as the run's outcome, and the supervisor prints.</summary>
internal sealed record ShootoutSummary
{
    public required int Rounds { get; init; }
    public required IReadOnlyList<RoundWinner> Winners { get; init; }
    public required double DurationMs { get; init; }
    public required long ShotsFired { get; init; }
    public required IReadOnlyList<CowboyTotals> Cowboys { get; init; }

    public static ShootoutSummary Of(ShootoutGame game) => new()
    {
        Rounds = game.Config.Rounds,
        Winners = game.Winners.ToArray(),
        DurationMs = game.FirstRoundStartedAt is { } start && game.FinishedAt is { } end ? (end - start).TotalMilliseconds : 0,
        ShotsFired = game.Cowboys.Sum(c => c.ShotsFired),
        Cowboys = game.Cowboys.Select(c => new CowboyTotals(c.Name, c.Wins, c.ShotsFired, c.DamageDealt, c.DamageTaken)).ToArray(),
    };
}
