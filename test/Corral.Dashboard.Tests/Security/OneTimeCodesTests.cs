using Corral.Node.Dashboard;
using Corral.Supervisor.Dashboard;
using Microsoft.Extensions.Time.Testing;

namespace Corral.Dashboard.Tests.Security;

public sealed class OneTimeCodesTests
{
    private readonly FakeTimeProvider _time = new(DateTimeOffset.Parse("2026-11-29T12:00:00Z"));

    [Fact]
    public void A_code_is_exchanged_for_a_session_once()
    {
        var codes = new OneTimeCodes(_time);
        var code = codes.Issue();

        var session = codes.Redeem(code);

        Assert.NotNull(session);
        Assert.True(codes.IsSession(session));
        Assert.Null(codes.Redeem(code));
    }

    [Fact]
    public void A_code_expires_five_minutes_after_it_was_issued()
    {
        var codes = new OneTimeCodes(_time);
        var late = codes.Issue();
        var inTime = codes.Issue();

        _time.Advance(TimeSpan.FromMinutes(5) - TimeSpan.FromSeconds(1));
        Assert.NotNull(codes.Redeem(inTime));
        _time.Advance(TimeSpan.FromSeconds(1));

        Assert.Null(codes.Redeem(late));
    }

    [Fact]
    public void Unknown_codes_and_sessions_are_refused()
    {
        var codes = new OneTimeCodes(_time);
        codes.Redeem(codes.Issue());

        Assert.Null(codes.Redeem("made-up"));
        Assert.False(codes.IsSession("made-up"));
        Assert.False(codes.IsSession(""));
    }
}
