namespace Corral.Shootout.Game;

/// <summary>Why a shot or registration was refused; the server maps each to an HTTP status.</summary>
public enum Refusal
{
    /// <summary>No cowboy has that name (403).</summary>
    UnknownShooter,

    /// <summary>The identity is bound to another node, or to none (403).</summary>
    NotYourIdentity,

    /// <summary>The round is not running: registration, intermission or the game is over (409).</summary>
    RoundNotRunning,

    /// <summary>The shooter is dead until the next round (409).</summary>
    ShooterDead,

    /// <summary>The shooter already fired in this tick (429).</summary>
    SameTick,

    /// <summary>Every identity is bound to another node (409).</summary>
    NoIdentityLeft,

    /// <summary>The node id is not a usable name (400).</summary>
    BadNodeId,
}

/// <summary>A refused request: the reason, a sentence for a person, and when trying again makes sense.</summary>
public sealed record Refused(Refusal Reason, string Detail, TimeSpan? RetryAfter = null)
{
    /// <summary>The round the refusal is about (a dead shooter waits for the one after it).</summary>
    public int? Round { get; init; }
}

/// <summary>What a shot did.</summary>
public sealed record ShotReport
{
    public required int Round { get; init; }
    public required long Seq { get; init; }
    public required string Shooter { get; init; }
    public required string Target { get; init; }
    public required int Damage { get; init; }
    public required int TargetHealthBefore { get; init; }
    public required int TargetHealthAfter { get; init; }
    public required long Tick { get; init; }
    public required bool Killed { get; init; }

    /// <summary>The round's winner when this shot ended it.</summary>
    public string? Winner { get; init; }
}

/// <summary>The outcome of <see cref="ShootoutGame.Shoot"/>: a report, or a refusal that changed nothing.</summary>
public sealed record ShotOutcome(ShotReport? Report, Refused? Refusal)
{
    public static ShotOutcome Of(Refusal reason, string detail, TimeSpan? retryAfter = null, int? round = null) =>
        new(null, new Refused(reason, detail, retryAfter) { Round = round });
}

/// <summary>The outcome of <see cref="ShootoutGame.Register"/>: the identity given, or a refusal.</summary>
public sealed record RegisterOutcome(string? Cowboy, Refused? Refusal);
