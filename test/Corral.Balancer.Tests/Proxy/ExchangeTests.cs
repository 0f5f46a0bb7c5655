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
    public void The_attempt_timeout_starts_at_the_end_of_the_body_not_at_arrival()
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
    public void A_client_silent_mid_upload_is_blamed_on_the_client()
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
    public void The_request_timeout_spans_attempts_and_a_worker_silent_mid_answer_is_blamed_on_the_worker()
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
    public void A_client_that_stops_reading_is_blamed_on_the_client_and_an_upgraded_connection_has_no_deadline()
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
