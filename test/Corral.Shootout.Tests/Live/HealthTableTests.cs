using Corral.Shootout.Live;
using Corral.Shootout.Server;

namespace Corral.Shootout.Tests.Live;

public sealed class HealthTableTests
{
    [Fact]
    public void Shows_each_cowboys_health_bar_and_the_dead_as_dead()
    {
        var state = new GameSnapshot
        {
            Round = 1, Rounds = 2, Status = "running", TickMs = 1000, Seq = 9, Winners = [],
            Cowboys =
            [
                new CowboyView { Name = "John", Health = 5, MaxHealth = 10, Damage = 1, Alive = true, Node = "cowboy-1" },
                new CowboyView { Name = "Bill", Health = 0, MaxHealth = 8, Damage = 2, Alive = false, Node = "cowboy-2" },
            ],
        };

        var lines = HealthTable.Render(state);

        Assert.Equal("── round 1/2 · running · 1 alive ──", lines[0]);
        Assert.Contains("██████████··········", lines[1]);
        Assert.Contains("5/10", lines[1]);
        Assert.Contains("dead", lines[2]);
        Assert.Contains("····················", lines[2]);
    }
}
