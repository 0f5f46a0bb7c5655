using Corral.Balancer.Config;
using Corral.Balancer.Proxy;
using Microsoft.Extensions.Time.Testing;

namespace Corral.Balancer.Tests.Proxy;

/// <summary>The exchange's deadlines on a fake clock: which one passes, when, and whom it blames.</summary>
public sealed class ExchangeTests
{
    private static readonly TimeoutConfig Timeouts = new()
    {
        Attempt = TimeSpan.FromSeconds(2),
        Request = TimeSpan.FromSeconds(5),
        Activity = TimeSpan.FromSeconds(1),
    };

    [Fact]
    public void TheAttemptTimeoutStartsAtTheEndOfTheBodyNotAtArrival()
    {
        var time = new FakeTimeProvider();
        using var exchange = new Exchange(time, Timeouts, hasBody: true);
        exchange.BeginAttempt();
        for (var i = 0; i < 10; i++)
        {
            time.Advance(TimeSpan.FromMilliseconds(900));
            exchange.BodyRead();
        }

        exchange.EndOfBody();
        Assert.False(exchange.Token.IsCancellationRequested, "a steady 9 s upload must not time out");
        time.Advance(TimeSpan.FromMilliseconds(1900));
        Assert.False(exchange.Token.IsCancellationRequested);
        time.Advance(TimeSpan.FromMilliseconds(200));
        Assert.True(exchange.Token.IsCancellationRequested);
        Assert.Equal(Expiry.Attempt, exchange.Expired);
    }

    [Fact]
    public void AClientSilentMidUploadIsBlamedOnTheClient()
    {
        var time = new FakeTimeProvider();
        using var exchange = new Exchange(time, Timeouts, hasBody: true);
        exchange.BeginAttempt();
        exchange.BodyRead();
        time.Advance(TimeSpan.FromMilliseconds(1100));
        Assert.True(exchange.Token.IsCancellationRequested);
        Assert.Equal(Expiry.ClientIdle, exchange.Expired);
    }

    [Fact]
    public void TheRequestTimeoutSpansAttemptsAndAWorkerSilentMidAnswerIsBlamedOnTheWorker()
    {
        var time = new FakeTimeProvider();
        using var exchange = new Exchange(time, Timeouts, hasBody: false);
        exchange.BeginAttempt();
        time.Advance(TimeSpan.FromSeconds(2));
        Assert.Equal(Expiry.Attempt, exchange.Expired);
        exchange.BeginAttempt();
        time.Advance(TimeSpan.FromSeconds(2));
        Assert.Equal(Expiry.Attempt, exchange.Expired);
        exchange.BeginAttempt();
        time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(Expiry.Request, exchange.Expired);

        using var answered = new Exchange(time, Timeouts, hasBody: false);
        answered.BeginAttempt();
        answered.HeadersReceived(upgraded: false);
        answered.WriteStarted();
        answered.WriteEnded();
        time.Advance(TimeSpan.FromMilliseconds(1100));
        Assert.Equal(Expiry.WorkerIdle, answered.Expired);
    }

    [Fact]
    public void AClientThatStopsReadingIsBlamedOnTheClientAndAnUpgradedConnectionHasNoDeadline()
    {
        var time = new FakeTimeProvider();
        using var exchange = new Exchange(time, Timeouts, hasBody: false);
        exchange.BeginAttempt();
        exchange.HeadersReceived(upgraded: false);
        exchange.WriteStarted();
        time.Advance(TimeSpan.FromMilliseconds(1100));
        Assert.Equal(Expiry.ClientIdle, exchange.Expired);

        using var upgraded = new Exchange(time, Timeouts, hasBody: false);
        upgraded.BeginAttempt();
        upgraded.HeadersReceived(upgraded: true);
        time.Advance(TimeSpan.FromHours(1));
        Assert.False(upgraded.Token.IsCancellationRequested);
    }
}
