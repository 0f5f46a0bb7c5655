using Corral.Shootout.Cowboy;
using Corral.Shootout.Tests.Helpers;

namespace Corral.Shootout.Tests.Cowboy;

public sealed class CowboyNodeTests
{
    [Fact]
    public void Server_override_is_read_in_both_spellings()
    {
        Assert.Null(CowboyNode.ParseArgs([]).Server);
        Assert.Equal(new Uri("http://127.0.0.1:9000"), CowboyNode.ParseArgs(["--server", "http://127.0.0.1:9000"]).Server);
        Assert.Equal(new Uri("http://host:1"), CowboyNode.ParseArgs(["--server=http://host:1"]).Server);
    }

    [Theory]
    [InlineData("--server", "ftp://x")]
    [InlineData("--server", "not a url")]
    [InlineData("--speed", "3")]
    public void Bad_arguments_are_refused_with_a_message(string name, string value)
    {
        var e = Assert.Throws<ArgumentException>(() => CowboyNode.ParseArgs([name, value]));
        Assert.Contains("--server", e.Message);
    }
}

public sealed class CowboyGiveUpTests
{
    [Fact]
    public async Task A_cowboy_whose_server_stays_away_gives_up_with_a_non_zero_exit()
    {
        await using var control = await ControlApiStub.StartAsync();
        using var dir = new TempFolder();
        var config = Configs.Many(2, 5, 1, TimeSpan.FromMilliseconds(50));
        var context = control.Context("cowboy-1", ShootoutPlan.CowboyRole, dir.Path, config.ToJson());

        // Port 1 on loopback: nothing listens there, so every call is refused at once.
        var options = new CowboyOptions(new Uri("http://127.0.0.1:1"), TimeSpan.FromMilliseconds(500));
        var exit = await CowboyNode.RunAsync(context, config, options, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(20));
        Assert.Equal(1, exit);
    }
}
