using Corral.Balancer.Config;
using Corral.Node.Text;
using Microsoft.AspNetCore.Http;
using Yarp.ReverseProxy.Forwarder;

namespace Corral.Balancer.Proxy;

/// <summary>What one attempt came to, as the proxy saw it once the forwarder returned.</summary>
internal readonly record struct AttemptResult
{
    /// <summary>The forwarder's error; <see cref="ForwarderError.None"/> when the worker's answer was copied in full.</summary>
    public ForwarderError Error { get; init; }

    /// <summary>Which of the exchange's deadlines cut the attempt short, if one did.</summary>
    public Expiry Expired { get; init; }

    /// <summary>The client's connection is gone.</summary>
    public bool ClientAborted { get; init; }

    /// <summary>Headers or part of the body already reached the client.</summary>
    public bool ResponseStarted { get; init; }

    /// <summary>The status of a 5xx answer that was held back for a retry, before any byte of it reached the client.</summary>
    public int? HeldBackStatus { get; init; }

    /// <summary>Any of the client's body was read (so a streamed body can no longer be replayed).</summary>
    public bool BodyStarted { get; init; }

    /// <summary>The worker refused the connection (nothing listens on its port).</summary>
    public bool ConnectionRefused { get; init; }

    /// <summary>The forwarder's exception message, for the error's reason.</summary>
    public string? ErrorMessage { get; init; }
}

/// <summary>What the proxy does after an attempt.</summary>
internal enum AttemptVerdict
{
    /// <summary>The worker's answer went to the client (whatever its status): done, the worker is credited.</summary>
    Answered,

    /// <summary>The client left, stalled or broke its side: done, and the worker is not charged.</summary>
    ClientFault,

    /// <summary>The worker's 5xx was held back: it counts against the worker, and another worker is tried.</summary>
    RetryAfter5xx,

    /// <summary>The worker failed before any byte reached the client: charged; another attempt if one is allowed.</summary>
    RetryAfterFailure,

    /// <summary>The worker failed after bytes reached the client: charged; the client's connection is reset.</summary>
    Reset,

    /// <summary>The worker failed and no retry is allowed (the request's deadline passed, or a streamed body started).</summary>
    GiveUp,
}

/// <summary>The error the balancer answers itself when no attempt produced an answer.</summary>
internal readonly record struct GiveUpProblem(int Status, string Title, string Detail);

/// <summary>
/// The attempts of one client request and the rules between them, without sockets: whether another attempt is made
/// (attempts left, a worker not tried yet, the retry budget, which a retry after a failed connection does not charge),
/// whether a 5xx answer may be held back for a retry, whom an attempt's outcome is charged to, and the error answered
/// when every attempt failed. <see cref="BalancerProxy"/> carries out these decisions. Not thread-safe: one per request.
/// </summary>
internal sealed class ForwardAttempts
{
    private readonly RetryConfig _retries;
    private readonly RetryBudget _budget;
    private readonly Func<int> _activeRequests;
    private bool _bodyReplayable;
    private bool _budgetGranted;
    private bool _freeRetry;
    private string _stopped;

    /// <param name="retries">The retry settings of the config the request started with.</param>
    /// <param name="method">The request's method: only <c>retries.methods</c> are retried.</param>
    /// <param name="hasBody">The request has a body: then it can be sent again only once <see cref="BodyBuffered"/>.</param>
    /// <param name="budget">The balancer-wide retry budget.</param>
    /// <param name="activeRequests">The client requests in flight now, which size the budget.</param>
    public ForwardAttempts(RetryConfig retries, string method, bool hasBody, RetryBudget budget, Func<int> activeRequests)
    {
        _retries = retries;
        _budget = budget;
        _activeRequests = activeRequests;
        _bodyReplayable = !hasBody;
        Retryable = retries.Methods.Contains(method, StringComparer.OrdinalIgnoreCase);
        MaxAttempts = 1 + (Retryable ? retries.Attempts : 0);
        _stopped = Retryable ? "" : $"; {method} is not in retries.methods";
    }

    /// <summary>Whether the request's method may be retried at all.</summary>
    public bool Retryable { get; }

    public int MaxAttempts { get; }

    /// <summary>Attempts begun so far.</summary>
    public int Count { get; private set; }

    /// <summary>Retries that took the budget; the proxy gives them back when the request ends.</summary>
    public int BudgetTaken { get; private set; }

    /// <summary>The last attempt's failure, or null when no attempt was made.</summary>
    public AttemptFailure? Last { get; private set; }

    /// <summary>Whether a body of <paramref name="contentLength"/> bytes is kept for replay: only when a retry may follow.</summary>
    public bool ShouldBuffer(long? contentLength) =>
        !_bodyReplayable && Retryable && MaxAttempts > 1 && contentLength <= _retries.BufferBodyBytes;

    /// <summary>The body was read whole and is kept: every attempt sends it again.</summary>
    public void BodyBuffered() => _bodyReplayable = true;

    private bool IsLast => Count == MaxAttempts;

    /// <summary>
    /// Before an attempt: whether to make one, given how many workers not tried yet may take it. A first attempt needs
    /// only a worker; a retry needs an attempt left, a worker, and the budget, unless a held-back 5xx already took it or
    /// the failure before was a connection that failed (a worker that is gone, whose retry adds no load to the pool).
    /// </summary>
    public bool TryBegin(int candidates)
    {
        if (Count == MaxAttempts) return false;
        if (candidates == 0)
        {
            _stopped = Count > 0 ? "; no other worker was available" : "";
            return false;
        }

        if (Count > 0 && !_budgetGranted && !_freeRetry && !TakeBudget())
        {
            _stopped = "; the retry budget (retries.budget-percent, .min-retry-concurrency) refused another attempt "
                + $"({_budget.InFlight} retries of {_activeRequests()} requests in flight)";
            return false;
        }

        _budgetGranted = false;
        Count++;
        return true;
    }

    /// <summary>Whether this attempt's 5xx could be held back at all: the proxy arms the exchange only then.</summary>
    public bool MayHoldBack5xx(bool bodyStarted) => !IsLast && _retries.On5xx && (_bodyReplayable || !bodyStarted);

    /// <summary>
    /// At the headers of a 5xx, before any byte of it reaches the client: hold it back (true) when 5xx retries are on,
    /// an attempt and another worker are left, the body can be sent again, and the budget grants the retry now.
    /// </summary>
    public bool TryHoldBack5xx(bool bodyStarted, bool anotherWorker)
    {
        if (!MayHoldBack5xx(bodyStarted) || !anotherWorker || !TakeBudget()) return false;
        _budgetGranted = true;
        return true;
    }

    /// <summary>Decides what an attempt on <paramref name="workerId"/> came to, and whether another may follow.</summary>
    public AttemptVerdict After(string workerId, AttemptResult result)
    {
        // A deadline that blamed the worker decides first: YARP aborts the client's connection when it cuts an answer
        // short, and that abort must not read as the client leaving.
        var workerBlamed = result.Expired is Expiry.WorkerIdle or Expiry.Attempt or Expiry.Request;
        if (!workerBlamed && (result.ClientAborted || result.Expired == Expiry.ClientIdle || IsClientFault(result.Error, result.Expired)))
        {
            return AttemptVerdict.ClientFault;
        }

        if (result.HeldBackStatus is { } status)
        {
            Last = new AttemptFailure(workerId, $"status {status}", false);
            return AttemptVerdict.RetryAfter5xx;
        }

        if (result.Error == ForwarderError.None || IsAnsweredThenBodyFailed(result))
        {
            return AttemptVerdict.Answered;
        }

        var timedOut = result.Expired is Expiry.Attempt or Expiry.Request or Expiry.WorkerIdle || result.Error == ForwarderError.RequestTimedOut;
        var reason = result.ConnectionRefused ? "connection refused"
            : result.Expired != Expiry.None ? Describe(result.Expired)
            : $"{result.Error}: {result.ErrorMessage}";
        Last = new AttemptFailure(workerId, reason, timedOut);
        // A connection that failed before any byte of an answer means a worker that is gone, not one that is
        // overloaded: its retry adds no load to a struggling pool, so the budget does not charge it (a SIGKILLed
        // worker fails every request it holds at once, far more than Envoy's 20% when it is one of three).
        _freeRetry = result.Error == ForwarderError.Request && result.Expired == Expiry.None;
        // Headers or part of the body already reached the client: YARP has reset the connection, the only honest signal left.
        if (result.ResponseStarted) return AttemptVerdict.Reset;
        if (result.Expired == Expiry.Request) return AttemptVerdict.GiveUp;
        // Replaying is safe only if the worker never saw any of the body, or we kept a copy of it.
        if (!_bodyReplayable && result.BodyStarted)
        {
            _stopped = "; the request body was streamed, so it cannot be replayed";
            return AttemptVerdict.GiveUp;
        }

        return AttemptVerdict.RetryAfterFailure;
    }

    /// <summary>The answer when no attempt produced one: 503 with no worker tried, 504 after a timeout, 502 otherwise.</summary>
    public GiveUpProblem Problem(TimeoutConfig timeouts) => Last switch
    {
        null => new GiveUpProblem(StatusCodes.Status503ServiceUnavailable, "No healthy worker",
            "every worker is down, ejected or not yet known to this balancer"),
        { TimedOut: true } last => new GiveUpProblem(StatusCodes.Status504GatewayTimeout, "Worker timed out",
            $"no answer within {Durations.Format(timeouts.Attempt)} per attempt and "
            + $"{Durations.Format(timeouts.Request)} in all (last tried {last.WorkerId}: {last.Reason}){_stopped}"),
        var last => new GiveUpProblem(StatusCodes.Status502BadGateway, "Worker failed",
            $"{Count} attempt(s) failed; the last, on {last.WorkerId}: {last.Reason}{_stopped}"),
    };

    private bool TakeBudget()
    {
        if (!_budget.TryAcquire(_activeRequests(), _retries.BudgetPercent, _retries.MinRetryConcurrency)) return false;
        BudgetTaken++;
        return true;
    }

    /// <summary>Errors on the client's side of the exchange, or a cancellation that no deadline of ours caused.</summary>
    private static bool IsClientFault(ForwarderError error, Expiry expired) => error switch
    {
        ForwarderError.RequestBodyClient or ForwarderError.ResponseBodyClient
            or ForwarderError.UpgradeRequestClient or ForwarderError.UpgradeResponseClient => true,
        ForwarderError.RequestCanceled or ForwarderError.RequestBodyCanceled or ForwarderError.ResponseBodyCanceled
            or ForwarderError.UpgradeRequestCanceled or ForwarderError.UpgradeResponseCanceled => expired == Expiry.None,
        _ => false,
    };

    /// <summary>The worker answered in full, but the client's body was cut short or not wanted (the worker answered early).</summary>
    private static bool IsAnsweredThenBodyFailed(AttemptResult result) =>
        result.ResponseStarted && result.Error is ForwarderError.RequestBodyDestination or ForwarderError.RequestBodyCanceled;

    private static string Describe(Expiry expired) => expired switch
    {
        Expiry.Attempt => "no response headers within timeouts.attempt",
        Expiry.Request => "no response headers within timeouts.request",
        Expiry.WorkerIdle => "the answer stalled for timeouts.activity",
        _ => expired.ToString(),
    };
}

/// <summary>Why an attempt failed, for the error the balancer answers.</summary>
internal sealed record AttemptFailure(string WorkerId, string Reason, bool TimedOut);
