using Corral.Shootout.Cowboy;

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
