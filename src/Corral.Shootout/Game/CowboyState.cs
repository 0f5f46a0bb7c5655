using Corral.Shootout.Config;

namespace Corral.Shootout.Game;

/// <summary>One cowboy's live state inside a <see cref="ShootoutGame"/>; changed only by applying events.</summary>
internal sealed class CowboyState(CowboySpec spec, int index)
{
    public CowboySpec Spec { get; } = spec;
    public int Index { get; } = index;
    public string Name => Spec.Name;
    public int Health { get; internal set; } = spec.Health;
    public bool Alive => Health > 0;

    /// <summary>The node this identity is bound to; kept across restarts of that node.</summary>
    public string? Node { get; internal set; }

    /// <summary>Shots fired in the current round: the "shot number" that target choice derives from.</summary>
    public int ShotsThisRound { get; internal set; }

    /// <summary>The tick of the last shot in the current round, -1 before the first.</summary>
    public long LastTick { get; internal set; } = -1;

    public long ShotsFired { get; internal set; }
    public long DamageDealt { get; internal set; }
    public long DamageTaken { get; internal set; }
    public int Wins { get; internal set; }
}
