using Corral.Node.Http;
using Microsoft.AspNetCore.Http;

namespace Corral.Node.Tests.Http;

/// <summary>The one Host and Origin rule of the loopback listeners, as a table.</summary>
public sealed class LoopbackGuardTests
{
    private const int Port = 7999;

    [Theory]
    [InlineData("127.0.0.1:7999", null, true)]
    [InlineData("localhost:7999", null, true)]
    [InlineData("LOCALHOST:7999", null, true)]
    [InlineData("[::1]:7999", null, true)]
    [InlineData("127.0.0.1:8000", null, false)]
    [InlineData("localhost:8000", null, false)]
    [InlineData("[::1]:8000", null, false)]
    [InlineData("127.0.0.1", null, false)]
    [InlineData("localhost", null, false)]
    [InlineData("evil.example:7999", null, false)]
    [InlineData("localhost.evil.example:7999", null, false)]
    [InlineData("127.0.0.2:7999", null, false)]
    [InlineData("0.0.0.0:7999", null, false)]
    [InlineData("", null, false)]
    [InlineData("127.0.0.1:7999", "http://127.0.0.1:7999", true)]
    [InlineData("127.0.0.1:7999", "http://localhost:7999", true)]
    [InlineData("[::1]:7999", "http://[::1]:7999", true)]
    [InlineData("127.0.0.1:7999", "http://127.0.0.1:8000", false)]
    [InlineData("127.0.0.1:7999", "http://127.0.0.1", false)]
    [InlineData("127.0.0.1:7999", "https://127.0.0.1:7999", false)]
    [InlineData("127.0.0.1:7999", "http://evil.example", false)]
    [InlineData("127.0.0.1:7999", "http://evil.example:7999", false)]
    [InlineData("127.0.0.1:7999", "http://user@127.0.0.1:7999", false)]
    [InlineData("127.0.0.1:7999", "http://127.0.0.1:7999/page", false)]
    [InlineData("127.0.0.1:7999", "null", false)]
    [InlineData("127.0.0.1:7999", "file://", false)]
    public void A_request_passes_only_with_this_listeners_loopback_host_and_port_and_its_own_origin(string host, string? origin, bool allowed)
    {
        var context = new DefaultHttpContext();
        if (host.Length > 0) context.Request.Host = new HostString(host);
        if (origin is not null) context.Request.Headers.Origin = origin;

        var refusal = LoopbackGuard.Refusal(context.Request, Port, "control API");

        Assert.True(allowed == refusal is null, $"Host '{host}', Origin '{origin}': {refusal ?? "allowed"}");
    }

    [Fact]
    public void A_listener_on_port_80_accepts_a_host_without_a_port()
    {
        Assert.True(LoopbackGuard.IsOwnHost(new HostString("localhost"), 80));
        Assert.False(LoopbackGuard.IsOwnHost(new HostString("localhost:80"), 8080));
    }

    [Fact]
    public void A_refusal_names_the_listener_and_what_it_answers_to()
    {
        var context = new DefaultHttpContext { Request = { Host = new HostString("evil.example:7999") } };

        Assert.Equal("the dashboard answers only to Host 127.0.0.1:7999, localhost:7999 or [::1]:7999, not 'evil.example:7999'",
            LoopbackGuard.Refusal(context.Request, Port, "dashboard"));
    }
}
