using System.Net.Sockets;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;
using Yarp.ReverseProxy.Forwarder;

namespace Corral.Balancer.Proxy;

/// <summary>
/// Sends one client request to a worker through YARP's <see cref="IHttpForwarder"/> (headers, bodies both ways,
/// WebSocket upgrades, protocol errors) and keeps what YARP leaves to its caller: the choice of worker, the deadlines,
/// passive health from each attempt's outcome, statistics, and retries on another worker when that is safe — the
/// method is retryable, no byte of the answer reached the client, and the request body was either not read at all or
/// buffered for replay.
/// </summary>
internal sealed partial class BalancerProxy : IDisposable
{
    private readonly BackendPool _pool;
    private readonly BalancerState _state;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly IHttpForwarder _forwarder;
    private readonly HttpMessageInvoker _invoker;
    private readonly RetryBudget _retryBudget = new();
    private int _active;

    /// <summary>HTTP/1.1 to the workers; YARP's own idle timeout is off, since the exchange's deadlines (on the injected clock) bound it.</summary>
    private static readonly ForwarderRequestConfig RequestConfig = new()
    {
        ActivityTimeout = Timeout.InfiniteTimeSpan,
        Version = System.Net.HttpVersion.Version11,
        VersionPolicy = HttpVersionPolicy.RequestVersionOrLower,
    };

    public BalancerProxy(BackendPool pool, BalancerState state, TimeProvider time, ILogger logger, IHttpForwarder forwarder)
    {
        _pool = pool;
        _state = state;
        _time = time;
        _logger = logger;
        _forwarder = forwarder;
        _invoker = WorkerConnections.Create(state, time);
    }

    public RetryBudget Budget => _retryBudget;

    /// <summary>Whether the last request was routed in panic (too few healthy workers), and how many were since the start.</summary>
    public bool Panicking => Volatile.Read(ref _panicking) == 1;

    public long PanicRequests => Interlocked.Read(ref _panicRequests);

    private int _panicking;
    private long _panicRequests;

    private void NotePanic(bool panic)
    {
        var state = panic ? 1 : 0;
        if (panic) Interlocked.Increment(ref _panicRequests);
        // Read first: the common case (no change) then writes nothing that other cores would have to reload.
        if (Volatile.Read(ref _panicking) == state || Interlocked.Exchange(ref _panicking, state) == state) return;
        var all = _pool.All.Count;
        var healthy = _pool.Available(_time.GetUtcNow()).Count;
        if (panic) LogPanic(_logger, healthy, all, _state.Config.PanicThresholdPercent);
        else LogPanicOver(_logger, healthy, all);
    }

    /// <summary>Client requests being forwarded now.</summary>
    public int Active => Volatile.Read(ref _active);

    public async Task ForwardAsync(HttpContext context)
    {
        Interlocked.Increment(ref _active);
        var retries = 0;
        try
        {
            await ForwardCoreAsync(context, () =>
            {
                var retry = _state.Config.Retries;
                if (!_retryBudget.TryAcquire(Volatile.Read(ref _active), retry.BudgetPercent, retry.MinRetryConcurrency)) return false;
                retries++;
                return true;
            });
        }
        finally
        {
            _retryBudget.Release(retries);
            Interlocked.Decrement(ref _active);
        }
    }

    private async Task ForwardCoreAsync(HttpContext context, Func<bool> mayRetry)
    {
        // Status-code pages must not decorate a worker's answer (an empty 404 would gain a body).
        if (context.Features.Get<IStatusCodePagesFeature>() is { } pages) pages.Enabled = false;
        // The proxy streams bodies, so it takes any size; the node's default 1 MiB limit is for its own endpoints.
        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit) limit.MaxRequestBodySize = null;

        var config = _state.Config;
        var request = context.Request;
        var retryable = config.Retries.Methods.Contains(request.Method, StringComparer.OrdinalIgnoreCase);
        var maxAttempts = 1 + (retryable ? config.Retries.Attempts : 0);
        // Kestrel knows whether the request has a body (Content-Length, chunked, or an HTTP/2 stream's data), as YARP asks it.
        var hasBody = context.Features.Get<IHttpRequestBodyDetectionFeature>()?.CanHaveBody
            ?? (request.ContentLength > 0 || request.Headers.TransferEncoding.Count > 0);

        using var exchange = new Exchange(_time, config.Timeouts, hasBody);
        context.Features.Set(exchange);
        var responseBody = context.Features.Get<IHttpResponseBodyFeature>();
        if (responseBody is not null) context.Features.Set<IHttpResponseBodyFeature>(new ObservedResponseBody(responseBody, exchange));
        var clientBody = hasBody ? new ObservedRequestBody(request.Body, exchange, request.ContentLength) : null;
        byte[]? buffered = null;
        if (clientBody is not null && retryable && maxAttempts > 1 && request.ContentLength <= config.Retries.BufferBodyBytes)
        {
            buffered = await BufferBodyAsync(context, clientBody, (int)request.ContentLength.Value, exchange);
            if (buffered is null) return;
        }
        else if (clientBody is not null)
        {
            request.Body = clientBody;
        }

        var tried = new List<Backend>(maxAttempts);
        var retryGranted = false;
        var freeRetry = false;
        Failure? last = null;
        var stopped = retryable ? "" : $"; {request.Method} is not in retries.methods";
        for (var attempt = 1; attempt <= maxAttempts; attempt++)
        {
            var available = _pool.Candidates(_time.GetUtcNow(), tried, config.PanicThresholdPercent, out var panic);
            if (attempt == 1) NotePanic(panic);
            if (available.Count == 0)
            {
                stopped = attempt > 1 ? "; no other worker was available" : "";
                break;
            }

            // A 5xx retry took its budget before it let go of the answer; any other retry takes it here.
            if (attempt > 1 && !retryGranted && !freeRetry && !mayRetry())
            {
                stopped = $"; the retry budget (retries.budget-percent, .min-retry-concurrency) refused another attempt ({_retryBudget.InFlight} retries of {Active} requests in flight)";
                break;
            }

            retryGranted = false;
            var backend = _state.Policy.Pick(available);
            tried.Add(backend);
            if (buffered is not null) request.Body = new MemoryStream(buffered, writable: false);

            exchange.BeginAttempt();
            var isLast = attempt == maxAttempts;
            exchange.RetryOn5xx = !isLast && config.Retries.On5xx && (buffered is not null || !exchange.BodyStarted)
                ? () => _pool.Candidates(_time.GetUtcNow(), tried, config.PanicThresholdPercent, out _).Count > 0 && mayRetry()
                : null;
            var started = _time.GetTimestamp();
            backend.Started(isRetry: attempt > 1);
            var error = await _forwarder.SendAsync(context, backend.BaseUrl, _invoker, RequestConfig, WorkerTransformer.Instance, exchange.Token);
            var expired = exchange.Expired;
            var passive = _state.Config.Passive;

            // A deadline that blamed the worker decides first: YARP aborts the client's connection when it cuts an answer
            // short, and that abort must not read as the client leaving.
            var workerBlamed = expired is Expiry.WorkerIdle or Expiry.Attempt or Expiry.Request;
            if (!workerBlamed && (context.RequestAborted.IsCancellationRequested || expired == Expiry.ClientIdle || IsClientFault(error, expired)))
            {
                // The client left, stalled or broke its side: that says nothing about the worker.
                backend.Abandoned();
                if (!context.RequestAborted.IsCancellationRequested && !context.Response.HasStarted)
                {
                    context.Response.Clear();
                    await WriteProblemAsync(context, expired == Expiry.ClientIdle ? StatusCodes.Status408RequestTimeout : StatusCodes.Status400BadRequest,
                        "Request body failed", expired == Expiry.ClientIdle
                            ? $"the client sent nothing for {Corral.Node.Text.Durations.Format(config.Timeouts.Activity)} (timeouts.activity)"
                            : "the request body could not be read from the client");
                }
                else if (expired == Expiry.ClientIdle)
                {
                    context.Abort();
                }

                return;
            }

            if (exchange.RetriedStatus is { } status5xx)
            {
                retryGranted = true;
                RecordAnswer(backend, status5xx, passive);
                backend.Finished(failed: passive.Count5xx, _time.GetElapsedTime(started));
                last = new Failure(backend.Id, $"status {status5xx}", false);
                context.Response.Clear();
                continue;
            }

            if (error == ForwarderError.None || IsAnsweredThenBodyFailed(error, context))
            {
                var status = context.Response.StatusCode;
                RecordAnswer(backend, status, passive);
                backend.Finished(failed: status >= 500 && passive.Count5xx, _time.GetElapsedTime(started));
                return;
            }

            // The worker failed this attempt: it refused or broke the connection, sent bad headers, timed out or stalled.
            var exception = context.Features.Get<IForwarderErrorFeature>()?.Exception;
            var refused = IsConnectionRefused(exception);
            var timedOut = expired is Expiry.Attempt or Expiry.Request or Expiry.WorkerIdle || error == ForwarderError.RequestTimedOut;
            backend.Finished(failed: true, _time.GetElapsedTime(started));
            var reason = refused ? "connection refused" : expired != Expiry.None ? Describe(expired) : $"{error}: {exception?.Message}";
            if (backend.Outlier.RecordFailure(_time.GetUtcNow(), passive, immediate: refused) is { } length)
                LogEjected(_logger, backend.Id, length.TotalMilliseconds, reason);
            last = new Failure(backend.Id, reason, timedOut);
            // A connection that failed before any byte of an answer means a worker that is gone, not one that is
            // overloaded: its retry adds no load to a struggling pool, so the budget does not charge it (a SIGKILLed
            // worker fails every request it holds at once, far more than Envoy's 20% when it is one of three).
            freeRetry = error == ForwarderError.Request && expired == Expiry.None;
            // Headers or part of the body already reached the client: YARP has reset the connection, the only honest signal left.
            if (context.Response.HasStarted) return;
            context.Response.Clear();
            context.Features.Set<IForwarderErrorFeature>(null);
            if (expired == Expiry.Request) break;
            // Replaying is safe only if the worker never saw any of the body, or we kept a copy of it.
            if (buffered is null && exchange.BodyStarted)
            {
                stopped = "; the request body was streamed, so it cannot be replayed";
                break;
            }
        }

        if (last is null)
        {
            await WriteProblemAsync(context, StatusCodes.Status503ServiceUnavailable, "No healthy worker",
                "every worker is down, ejected or not yet known to this balancer");
        }
        else if (last.TimedOut)
        {
            await WriteProblemAsync(context, StatusCodes.Status504GatewayTimeout, "Worker timed out",
                $"no answer within {Corral.Node.Text.Durations.Format(config.Timeouts.Attempt)} per attempt and "
                + $"{Corral.Node.Text.Durations.Format(config.Timeouts.Request)} in all (last tried {last.WorkerId}: {last.Reason}){stopped}");
        }
        else
        {
            await WriteProblemAsync(context, StatusCodes.Status502BadGateway, "Worker failed",
                $"{tried.Count} attempt(s) failed; the last, on {last.WorkerId}: {last.Reason}{stopped}");
        }
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
    private static bool IsAnsweredThenBodyFailed(ForwarderError error, HttpContext context) =>
        context.Response.HasStarted && error is ForwarderError.RequestBodyDestination or ForwarderError.RequestBodyCanceled;

    private void RecordAnswer(Backend backend, int status, Config.PassiveHealthConfig passive)
    {
        if (status >= 500 && passive.Count5xx)
        {
            if (backend.Outlier.RecordFailure(_time.GetUtcNow(), passive) is { } length)
                LogEjected(_logger, backend.Id, length.TotalMilliseconds, $"{passive.ConsecutiveFailures} consecutive failures");
        }
        else
        {
            backend.Outlier.RecordSuccess();
        }
    }

    private static string Describe(Expiry expired) => expired switch
    {
        Expiry.Attempt => "no response headers within timeouts.attempt",
        Expiry.Request => "no response headers within timeouts.request",
        Expiry.WorkerIdle => "the answer stalled for timeouts.activity",
        _ => expired.ToString(),
    };

    /// <summary>Reads a small body whole (through the exchange's idle deadline), so a retry can send it again.</summary>
    private static async Task<byte[]?> BufferBodyAsync(HttpContext context, Stream body, int length, Exchange exchange)
    {
        var buffer = new byte[length];
        try
        {
            using var cancel = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, exchange.Token);
            await body.ReadExactlyAsync(buffer, cancel.Token);
            exchange.EndOfBody();
            return buffer;
        }
        catch (Exception e) when (e is IOException or OperationCanceledException or EndOfStreamException or BadHttpRequestException)
        {
            context.Abort();
            return null;
        }
    }

    private static bool IsConnectionRefused(Exception? e)
    {
        for (var inner = e; inner is not null; inner = inner.InnerException)
        {
            if (inner is SocketException { SocketErrorCode: SocketError.ConnectionRefused }) return true;
            if (inner is AggregateException aggregate && aggregate.InnerExceptions.Any(IsConnectionRefused)) return true;
        }

        return false;
    }

    private static Task WriteProblemAsync(HttpContext context, int status, string title, string detail)
    {
        if (context.Response.HasStarted)
        {
            context.Abort();
            return Task.CompletedTask;
        }

        context.Response.Clear();
        context.Response.StatusCode = status;
        return context.Response.WriteAsJsonAsync(new ProxyProblem(title, status, detail), BalancerJson.Default.ProxyProblem, contentType: "application/problem+json");
    }

    public void Dispose() => _invoker.Dispose();

    private sealed record Failure(string WorkerId, string Reason, bool TimedOut);

    [LoggerMessage(Level = LogLevel.Warning, Message = "panic routing: {Healthy} of {Workers} worker(s) healthy, below panic-threshold {Threshold}%; routing to all of them")]
    private static partial void LogPanic(ILogger logger, int healthy, int workers, double threshold);

    [LoggerMessage(Level = LogLevel.Information, Message = "panic routing over: {Healthy} of {Workers} worker(s) healthy")]
    private static partial void LogPanicOver(ILogger logger, int healthy, int workers);

    [LoggerMessage(Level = LogLevel.Warning, Message = "ejected {WorkerId} for {Milliseconds} ms: {Reason}")]
    private static partial void LogEjected(ILogger logger, string workerId, double milliseconds, string reason);
}

/// <summary>The problem body the proxy writes itself when no worker could answer (RFC 9457 fields).</summary>
internal sealed record ProxyProblem(string Title, int Status, string Detail)
{
    public string Type => "https://tools.ietf.org/html/rfc9110#section-15.6";
}
