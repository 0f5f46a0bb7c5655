using Corral.Shootout.Config;

namespace Corral.Shootout.Tests.Helpers;

public static class Configs
{
    public static ShootoutConfig Of(TimeSpan tick, int rounds = 1, TimeSpan? intermission = null, long seed = 42, params (string Name, int Health, int Damage)[] cowboys) => new()
    {
        Tick = tick,
        Rounds = rounds,
        Seed = seed,
        Intermission = intermission ?? TimeSpan.FromMilliseconds(500),
        Cowboys = cowboys.Select(c => new CowboySpec { Name = c.Name, Health = c.Health, Damage = c.Damage }).ToArray(),
    };

    public static ShootoutConfig Many(int count, int health, int damage, TimeSpan tick, int rounds = 1, TimeSpan? intermission = null, long seed = 42) =>
        Of(tick, rounds, intermission, seed, Enumerable.Range(1, count).Select(i => ($"c{i}", health, damage)).ToArray());
}
