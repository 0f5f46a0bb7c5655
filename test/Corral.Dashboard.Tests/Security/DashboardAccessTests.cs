using Corral.Node.Dashboard;
using Corral.Supervisor.Dashboard;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Time.Testing;

namespace Corral.Dashboard.Tests.Security;

/// <summary>The dashboard's access rules on requests built by hand: Host, cookie or token, and Origin on changes.</summary>
public sealed class DashboardAccessTests
{
    private const int Port = 8123;
    private const string Token = "the-runs-token";
    private readonly OneTimeCodes _codes = new(new FakeTimeProvider());
    private readonly DashboardAccess _access;
    private readonly string _session;

    public DashboardAccessTests()
    {
        _access = new DashboardAccess(_codes, Token);
        _session = _codes.Redeem(_codes.Issue())!;
    }

    private HttpRequest Request(string method = "GET", string host = "127.0.0.1:8123", string? cookie = null, string? origin = null, string? token = null)
    {
        var context = new DefaultHttpContext();
        context.Request.Method = method;
        context.Request.Host = new HostString(host);
        if (cookie is not null) context.Request.Headers.Cookie = $"{DashboardAccess.CookieName(Port)}={cookie}";
        if (origin is not null) context.Request.Headers.Origin = origin;
        if (token is not null) context.Request.Headers.Authorization = $"Bearer {token}";
        return context.Request;
    }

    [Fact]
    public void Without_cookie_or_token_a_request_is_401()
    {
        Assert.Equal(401, _access.Check(Request(), Port).Status);
        Assert.Equal(401, _access.Check(Request(cookie: "forged"), Port).Status);
        Assert.Equal(401, _access.Check(Request(token: "wrong"), Port).Status);
    }

    [Fact]
    public void The_cookie_of_another_ports_dashboard_does_not_count()
    {
        var context = new DefaultHttpContext();
        context.Request.Host = new HostString("127.0.0.1:8123");
        context.Request.Headers.Cookie = $"{DashboardAccess.CookieName(8124)}={_session}";

        Assert.Equal(401, _access.Check(context.Request, Port).Status);
    }

    [Fact]
    public void Reads_pass_with_the_cookie_or_the_token()
    {
        Assert.True(_access.Check(Request(cookie: _session), Port).IsAllowed);
        Assert.True(_access.Check(Request(host: "localhost:8123", token: Token), Port).IsAllowed);
    }

    [Theory]
    [InlineData("evil.example:8123")]
    [InlineData("127.0.0.1:8124")]
    [InlineData("127.0.0.1")]
    public void A_foreign_host_is_421_even_with_the_cookie(string host) =>
        Assert.Equal(421, _access.Check(Request(host: host, cookie: _session), Port).Status);

    [Theory]
    [InlineData(null)]
    [InlineData("http://evil.example")]
    [InlineData("http://127.0.0.1:8124")]
    [InlineData("https://127.0.0.1:8123")]
    [InlineData("null")]
    public void A_cookie_change_without_the_dashboards_origin_is_403(string? origin) =>
        Assert.Equal(403, _access.Check(Request("POST", cookie: _session, origin: origin), Port).Status);

    [Fact]
    public void A_change_passes_with_the_cookie_and_the_dashboards_origin()
    {
        Assert.True(_access.Check(Request("POST", cookie: _session, origin: "http://127.0.0.1:8123"), Port).IsAllowed);
        Assert.True(_access.Check(Request("PUT", host: "localhost:8123", cookie: _session, origin: "http://localhost:8123"), Port).IsAllowed);
    }

    [Fact]
    public void A_token_change_needs_no_origin_but_a_foreign_one_is_403()
    {
        Assert.True(_access.Check(Request("POST", token: Token), Port).IsAllowed);
        Assert.Equal(403, _access.Check(Request("POST", token: Token, origin: "http://evil.example"), Port).Status);
    }
}
