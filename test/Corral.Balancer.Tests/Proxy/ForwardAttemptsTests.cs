using Corral.Balancer.Config;
using Corral.Balancer.Proxy;
using Yarp.ReverseProxy.Forwarder;

namespace Corral.Balancer.Tests.Proxy;

/// <summary>The attempt-and-retry rules of one request, without a socket: what the proxy is told to do after each attempt.</summary>
public sealed class ForwardAttemptsTests
{
    private readonly RetryBudget _budget = new();
    private int _active = 1;

    /// <summary>A budget that refuses every retry it is asked for: 0% of the requests in flight, no floor.</summary>
    private static RetryConfig Closed(RetryConfig retries) => retries with { BudgetPercent = 0, MinRetryConcurrency = 0 };

    private ForwardAttempts Attempts(RetryConfig? retries = null, string method = "GET", bool hasBody = false) =>
        new(retries ?? new RetryConfig(), method, hasBody, _budget, () => _active);

    private static AttemptResult ConnectionFailed => new() { Error = ForwarderError.Request, ConnectionRefused = true };

    private static AttemptResult TimedOut => new() { Error = ForwarderError.RequestCanceled, Expired = Expiry.Attempt };

    [Fact]
    public void A_failed_connection_is_retried_on_another_worker_without_charging_the_budget()
    {
        var attempts = Attempts(Closed(new RetryConfig()));
        Assert.True(attempts.TryBegin(candidates: 3));

        Assert.Equal(AttemptVerdict.RetryAfterFailure, attempts.After("worker-1", ConnectionFailed));
        Assert.True(attempts.TryBegin(candidates: 2));
        Assert.Equal(0, attempts.BudgetTaken);
        Assert.Equal(0, _budget.Refused);
        Assert.Equal("connection refused", attempts.Last!.Reason);
    }

    [Fact]
    public void A_connection_broken_before_an_answer_is_free_too_but_a_deadline_is_not()
    {
        var attempts = Attempts(Closed(new RetryConfig()));
        Assert.True(attempts.TryBegin(3));
        Assert.Equal(AttemptVerdict.RetryAfterFailure, attempts.After("worker-1", new AttemptResult { Error = ForwarderError.Request, ErrorMessage = "reset" }));
        Assert.True(attempts.TryBegin(2));

        Assert.Equal(AttemptVerdict.RetryAfterFailure, attempts.After("worker-2", new AttemptResult { Error = ForwarderError.Request, Expired = Expiry.Attempt }));
        Assert.False(attempts.TryBegin(1));
        Assert.Equal(1, _budget.Refused);
    }

    [Fact]
    public void A_timed_out_attempt_is_retried_when_the_budget_grants_it_and_charges_it()
    {
        var attempts = Attempts();
        Assert.True(attempts.TryBegin(3));
        Assert.Equal(AttemptVerdict.RetryAfterFailure, attempts.After("worker-1", TimedOut));

        Assert.True(attempts.TryBegin(2));
        Assert.Equal(1, attempts.BudgetTaken);
        Assert.Equal(1, _budget.InFlight);
    }

    [Fact]
    public void A_retry_the_budget_refuses_ends_the_request_with_the_budget_named()
    {
        var attempts = Attempts(Closed(new RetryConfig()));
        Assert.True(attempts.TryBegin(3));
        Assert.Equal(AttemptVerdict.RetryAfterFailure, attempts.After("worker-1", TimedOut));

        Assert.False(attempts.TryBegin(2));
        var problem = attempts.Problem(new TimeoutConfig());
        Assert.Equal(504, problem.Status);
        Assert.Contains("the retry budget (retries.budget-percent, .min-retry-concurrency) refused another attempt (0 retries of 1 requests in flight)", problem.Detail);
        Assert.Equal(0, attempts.BudgetTaken);
    }

    [Fact]
    public void The_budget_is_a_share_of_the_requests_in_flight()
    {
        _active = 10;
        var retries = new RetryConfig { BudgetPercent = 20, MinRetryConcurrency = 0 };
        var first = Attempts(retries);
        var second = Attempts(retries);
        var third = Attempts(retries);
        foreach (var attempts in new[] { first, second, third })
        {
            Assert.True(attempts.TryBegin(3));
            attempts.After("worker-1", TimedOut);
        }

        Assert.True(first.TryBegin(2));
        Assert.True(second.TryBegin(2));
        Assert.False(third.TryBegin(2));
    }

    [Fact]
    public void A_5xx_is_held_back_only_when_retries_on_5xx_is_set()
    {
        var off = Attempts();
        Assert.True(off.TryBegin(2));
        Assert.False(off.MayHoldBack5xx(bodyStarted: false));
        Assert.False(off.TryHoldBack5xx(bodyStarted: false, anotherWorker: true));

        var on = Attempts(new RetryConfig { On5xx = true });
        Assert.True(on.TryBegin(2));
        Assert.True(on.MayHoldBack5xx(bodyStarted: false));
        Assert.True(on.TryHoldBack5xx(bodyStarted: false, anotherWorker: true));
    }

    [Fact]
    public void A_held_back_5xx_takes_the_budget_once_and_the_retry_goes_ahead_on_it()
    {
        var attempts = Attempts(new RetryConfig { On5xx = true });
        Assert.True(attempts.TryBegin(2));
        Assert.True(attempts.TryHoldBack5xx(bodyStarted: false, anotherWorker: true));
        Assert.Equal(1, attempts.BudgetTaken);

        Assert.Equal(AttemptVerdict.RetryAfter5xx, attempts.After("worker-1", new AttemptResult { HeldBackStatus = 503 }));
        Assert.Equal("status 503", attempts.Last!.Reason);
        Assert.True(attempts.TryBegin(1));
        Assert.Equal(1, attempts.BudgetTaken);
    }

    [Fact]
    public void A_5xx_goes_to_the_client_when_no_other_worker_or_no_budget_is_left()
    {
        var alone = Attempts(new RetryConfig { On5xx = true });
        Assert.True(alone.TryBegin(1));
        Assert.False(alone.TryHoldBack5xx(bodyStarted: false, anotherWorker: false));
        Assert.Equal(0, _budget.Refused);

        var refused = Attempts(Closed(new RetryConfig { On5xx = true }));
        Assert.True(refused.TryBegin(2));
        Assert.False(refused.TryHoldBack5xx(bodyStarted: false, anotherWorker: true));
        Assert.Equal(1, _budget.Refused);
    }

    [Fact]
    public void The_last_attempt_never_holds_back_a_5xx()
    {
        var attempts = Attempts(new RetryConfig { On5xx = true, Attempts = 1 });
        Assert.True(attempts.TryBegin(3));
        attempts.After("worker-1", TimedOut);
        Assert.True(attempts.TryBegin(2));

        Assert.False(attempts.MayHoldBack5xx(bodyStarted: false));
        Assert.False(attempts.TryHoldBack5xx(bodyStarted: false, anotherWorker: true));
    }

    [Fact]
    public void A_5xx_is_not_held_back_once_a_streamed_body_started_but_a_buffered_one_may_be_sent_again()
    {
        var streamed = Attempts(new RetryConfig { On5xx = true }, method: "PUT", hasBody: true);
        Assert.True(streamed.TryBegin(2));
        Assert.True(streamed.MayHoldBack5xx(bodyStarted: false));
        Assert.False(streamed.TryHoldBack5xx(bodyStarted: true, anotherWorker: true));

        var buffered = Attempts(new RetryConfig { On5xx = true }, method: "PUT", hasBody: true);
        Assert.True(buffered.ShouldBuffer(contentLength: 10));
        buffered.BodyBuffered();
        Assert.True(buffered.TryBegin(2));
        Assert.True(buffered.TryHoldBack5xx(bodyStarted: true, anotherWorker: true));
    }

    [Fact]
    public void A_body_is_buffered_only_when_a_retry_may_follow_and_it_is_small_with_a_known_length()
    {
        Assert.True(Attempts(method: "PUT", hasBody: true).ShouldBuffer(64 * 1024));
        Assert.False(Attempts(method: "PUT", hasBody: true).ShouldBuffer(64 * 1024 + 1));
        Assert.False(Attempts(method: "PUT", hasBody: true).ShouldBuffer(null));
        Assert.False(Attempts(method: "POST", hasBody: true).ShouldBuffer(10));
        Assert.False(Attempts(new RetryConfig { Attempts = 0 }, method: "PUT", hasBody: true).ShouldBuffer(10));
        Assert.False(Attempts(method: "PUT", hasBody: false).ShouldBuffer(10));
    }

    [Fact]
    public void A_streamed_body_that_started_is_not_replayed()
    {
        var attempts = Attempts(method: "PUT", hasBody: true);
        Assert.True(attempts.TryBegin(3));

        Assert.Equal(AttemptVerdict.GiveUp, attempts.After("worker-1", TimedOut with { BodyStarted = true }));
        var problem = attempts.Problem(new TimeoutConfig());
        Assert.Equal(504, problem.Status);
        Assert.EndsWith("; the request body was streamed, so it cannot be replayed", problem.Detail);
    }

    [Fact]
    public void A_streamed_body_the_worker_never_read_may_still_go_to_another_worker()
    {
        var attempts = Attempts(method: "PUT", hasBody: true);
        Assert.True(attempts.TryBegin(3));
        Assert.Equal(AttemptVerdict.RetryAfterFailure, attempts.After("worker-1", ConnectionFailed));
    }

    [Fact]
    public void Nothing_is_retried_after_bytes_of_the_answer_reached_the_client()
    {
        var attempts = Attempts();
        Assert.True(attempts.TryBegin(3));

        var stalled = new AttemptResult { Error = ForwarderError.ResponseBodyCanceled, Expired = Expiry.WorkerIdle, ResponseStarted = true };
        Assert.Equal(AttemptVerdict.Reset, attempts.After("worker-1", stalled));
        Assert.Equal("the answer stalled for timeouts.activity", attempts.Last!.Reason);
    }

    [Fact]
    public void The_request_deadline_ends_the_retries_with_504()
    {
        var attempts = Attempts();
        Assert.True(attempts.TryBegin(3));

        Assert.Equal(AttemptVerdict.GiveUp, attempts.After("worker-1", TimedOut with { Expired = Expiry.Request }));
        var problem = attempts.Problem(new TimeoutConfig());
        Assert.Equal(504, problem.Status);
        Assert.Contains("last tried worker-1: no response headers within timeouts.request", problem.Detail);
    }

    [Fact]
    public void Each_retry_needs_a_worker_not_tried_yet()
    {
        var attempts = Attempts();
        Assert.True(attempts.TryBegin(1));
        Assert.Equal(AttemptVerdict.RetryAfterFailure, attempts.After("worker-1", ConnectionFailed));

        Assert.False(attempts.TryBegin(candidates: 0));
        var problem = attempts.Problem(new TimeoutConfig());
        Assert.Equal(502, problem.Status);
        Assert.Equal("1 attempt(s) failed; the last, on worker-1: connection refused; no other worker was available", problem.Detail);
    }

    [Fact]
    public void Attempts_stop_at_one_plus_retries_attempts()
    {
        var attempts = Attempts(new RetryConfig { Attempts = 2 });
        for (var i = 1; i <= 3; i++)
        {
            Assert.True(attempts.TryBegin(5));
            Assert.Equal(AttemptVerdict.RetryAfterFailure, attempts.After($"worker-{i}", ConnectionFailed));
        }

        Assert.False(attempts.TryBegin(5));
        Assert.Equal(3, attempts.Count);
        Assert.StartsWith("3 attempt(s) failed; the last, on worker-3", attempts.Problem(new TimeoutConfig()).Detail);
    }

    [Fact]
    public void A_method_not_in_retries_methods_gets_one_attempt_and_the_error_says_why()
    {
        var attempts = Attempts(method: "POST");
        Assert.False(attempts.Retryable);
        Assert.True(attempts.TryBegin(3));
        Assert.Equal(AttemptVerdict.RetryAfterFailure, attempts.After("worker-1", ConnectionFailed));

        Assert.False(attempts.TryBegin(2));
        Assert.EndsWith("; POST is not in retries.methods", attempts.Problem(new TimeoutConfig()).Detail);
    }

    [Fact]
    public void No_worker_at_all_answers_503()
    {
        var attempts = Attempts();
        Assert.False(attempts.TryBegin(candidates: 0));
        var problem = attempts.Problem(new TimeoutConfig());
        Assert.Equal(503, problem.Status);
        Assert.Equal("No healthy worker", problem.Title);
    }

    [Fact]
    public void A_client_that_leaves_stalls_or_breaks_its_side_is_not_charged_to_the_worker()
    {
        AttemptVerdict After(AttemptResult result)
        {
            var attempts = Attempts();
            Assert.True(attempts.TryBegin(3));
            var verdict = attempts.After("worker-1", result);
            Assert.Null(attempts.Last);
            return verdict;
        }

        Assert.Equal(AttemptVerdict.ClientFault, After(new AttemptResult { Error = ForwarderError.RequestCanceled, ClientAborted = true }));
        Assert.Equal(AttemptVerdict.ClientFault, After(new AttemptResult { Error = ForwarderError.RequestBodyCanceled, Expired = Expiry.ClientIdle }));
        Assert.Equal(AttemptVerdict.ClientFault, After(new AttemptResult { Error = ForwarderError.RequestBodyClient }));
        Assert.Equal(AttemptVerdict.ClientFault, After(new AttemptResult { Error = ForwarderError.ResponseBodyCanceled }));
    }

    [Fact]
    public void A_deadline_that_blamed_the_worker_decides_even_when_the_client_connection_was_aborted()
    {
        var attempts = Attempts();
        Assert.True(attempts.TryBegin(3));

        var cutShort = new AttemptResult { Error = ForwarderError.ResponseBodyCanceled, Expired = Expiry.WorkerIdle, ClientAborted = true, ResponseStarted = true };
        Assert.Equal(AttemptVerdict.Reset, attempts.After("worker-1", cutShort));
        Assert.True(attempts.Last!.TimedOut);
    }

    [Fact]
    public void An_answer_is_the_workers_whether_its_status_is_good_or_its_early_answer_left_the_body_unread()
    {
        var whole = Attempts();
        Assert.True(whole.TryBegin(1));
        Assert.Equal(AttemptVerdict.Answered, whole.After("worker-1", new AttemptResult { ResponseStarted = true }));

        var early = Attempts(method: "PUT", hasBody: true);
        Assert.True(early.TryBegin(1));
        Assert.Equal(AttemptVerdict.Answered, early.After("worker-1", new AttemptResult { Error = ForwarderError.RequestBodyDestination, ResponseStarted = true }));
    }
}
