using System.Net;
using Corral.Node.Http;
using Microsoft.AspNetCore.Http;

namespace Corral.Node.Tests.Http;

/// <summary>The one Host and Origin rule of every listener, as a table.</summary>
public sealed class HostGuardTests
{
    private const int Port = 7999;

    [Theory]
    [InlineData("127.0.0.1:7999", null, true)]
    [InlineData("localhost:7999", null, true)]
    [InlineData("LOCALHOST:7999", null, true)]
    [InlineData("[::1]:7999", null, false)]
    [InlineData("127.0.0.1:8000", null, false)]
    [InlineData("localhost:8000", null, false)]
    [InlineData("127.0.0.1", null, false)]
    [InlineData("localhost", null, false)]
    [InlineData("evil.example:7999", null, false)]
    [InlineData("localhost.evil.example:7999", null, false)]
    [InlineData("127.0.0.2:7999", null, false)]
    [InlineData("2130706433:7999", null, false)]
    [InlineData("0.0.0.0:7999", null, false)]
    [InlineData("", null, false)]
    [InlineData("127.0.0.1:7999", "http://127.0.0.1:7999", true)]
    [InlineData("127.0.0.1:7999", "http://localhost:7999", true)]
    [InlineData("127.0.0.1:7999", "http://127.0.0.1:8000", false)]
    [InlineData("127.0.0.1:7999", "http://127.0.0.1", false)]
    [InlineData("127.0.0.1:7999", "https://127.0.0.1:7999", false)]
    [InlineData("127.0.0.1:7999", "http://evil.example", false)]
    [InlineData("127.0.0.1:7999", "http://evil.example:7999", false)]
    [InlineData("127.0.0.1:7999", "http://user@127.0.0.1:7999", false)]
    [InlineData("127.0.0.1:7999", "http://127.0.0.1:7999/page", false)]
    [InlineData("127.0.0.1:7999", "null", false)]
    [InlineData("127.0.0.1:7999", "file://", false)]
    public void A_request_passes_only_with_this_listeners_host_and_port_and_its_own_origin(string host, string? origin, bool allowed)
    {
        var context = new DefaultHttpContext();
        if (host.Length > 0) context.Request.Host = new HostString(host);
        if (origin is not null) context.Request.Headers.Origin = origin;

        var refusal = HostGuard.HostRefusal(context.Request.Host, IPAddress.Loopback, Port) ??
                      HostGuard.OriginRefusal(context.Request, IPAddress.Loopback, Port);

        Assert.True(allowed == refusal is null, $"Host '{host}', Origin '{origin}': {refusal ?? "allowed"}");
    }

    [Theory]
    [InlineData("[::1]:7999", true)]
    [InlineData("localhost:7999", true)]
    [InlineData("127.0.0.1:7999", false)]
    public void A_listener_bound_to_the_ipv6_loopback_answers_to_its_literal_and_localhost(string host, bool allowed) =>
        Assert.Equal(allowed, HostGuard.IsOwnHost(new HostString(host), IPAddress.IPv6Loopback, Port));

    [Fact]
    public void A_listener_bound_to_another_address_answers_only_to_that_literal()
    {
        var bound = IPAddress.Parse("10.1.2.3");
        Assert.True(HostGuard.IsOwnHost(new HostString("10.1.2.3:7999"), bound, Port));
        Assert.False(HostGuard.IsOwnHost(new HostString("localhost:7999"), bound, Port));
        Assert.Null(HostGuard.HostRefusal(new HostString("any.name:7999"), IPAddress.Any, Port));
    }

    [Fact]
    public void A_listener_on_port_80_accepts_a_host_without_a_port()
    {
        Assert.True(HostGuard.IsOwnHost(new HostString("localhost"), IPAddress.Loopback, 80));
        Assert.False(HostGuard.IsOwnHost(new HostString("localhost:80"), IPAddress.Loopback, 8080));
    }

    [Fact]
    public void A_refusal_names_the_listener_and_the_hosts_it_answers_to()
    {
        Assert.Equal("the dashboard answers only to Host 127.0.0.1:7999 or localhost:7999, not 'evil.example:7999'",
            HostGuard.HostRefusal(new HostString("evil.example:7999"), IPAddress.Loopback, Port, "the dashboard"));
    }

    [Theory]
    [InlineData("corral-supervisor:7999", true)]
    [InlineData("CORRAL-SUPERVISOR:7999", true)]
    [InlineData("127.0.0.1:7999", true)]
    [InlineData("localhost:7999", true)]
    [InlineData("corral-supervisor:8000", false)]
    [InlineData("evil.example:7999", false)]
    [InlineData("corral-supervisor.evil.example:7999", false)]
    [InlineData("10.1.2.3:7999", false)]
    public void A_wildcard_listener_given_names_answers_to_them_and_loopback_only(string host, bool allowed)
    {
        var names = ListenerNames.Of(IPAddress.Any, ["corral-supervisor"]);
        Assert.Equal(allowed, HostGuard.IsOwnHost(new HostString(host), names, Port));
        Assert.Equal(allowed, HostGuard.IsOwnOrigin($"http://{host}", names, Port));
    }

    [Fact]
    public void A_wildcard_listener_without_names_still_answers_to_any_host()
    {
        Assert.True(ListenerNames.Of(IPAddress.Any).AcceptsAny);
        Assert.Null(HostGuard.HostRefusal(new HostString("any.name:7999"), ListenerNames.Of(IPAddress.Any, []), Port));
        Assert.Equal("the control API answers only to Host 127.0.0.1:7999 or [::1]:7999 or localhost:7999 or corral-supervisor:7999, not 'x:7999'",
            HostGuard.HostRefusal(new HostString("x:7999"), ListenerNames.Of(IPAddress.Any, ["corral-supervisor"]), Port, "the control API"));
    }
}
