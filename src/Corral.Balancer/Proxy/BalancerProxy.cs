using System.Net;
using System.Net.Sockets;
using Corral.Balancer.Config;
using Corral.Node.Http;
using Corral.Node.Text;
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
        Version = HttpVersion.Version11,
        VersionPolicy = HttpVersionPolicy.RequestVersionOrLower,
    };

    public BalancerProxy(BackendPool pool, BalancerState state, TimeProvider time, ILogger<BalancerProxy> logger, IHttpForwarder forwarder)
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
        var config = _state.Config;
        var request = context.Request;
        // Kestrel knows whether the request has a body (Content-Length, chunked, or an HTTP/2 stream's data), as YARP asks it.
        var hasBody = context.Features.Get<IHttpRequestBodyDetectionFeature>()?.CanHaveBody
            ?? (request.ContentLength > 0 || request.Headers.TransferEncoding.Count > 0);
        var attempts = new ForwardAttempts(config.Retries, request.Method, hasBody, _retryBudget, () => Active);
        try
        {
            await ForwardCoreAsync(context, config, hasBody, attempts);
        }
        finally
        {
            _retryBudget.Release(attempts.BudgetTaken);
            Interlocked.Decrement(ref _active);
        }
    }

    /// <summary>Carries out <see cref="ForwardAttempts"/>' decisions: sends each attempt, charges or credits the worker, writes the answer.</summary>
    private async Task ForwardCoreAsync(HttpContext context, BalancerConfig config, bool hasBody, ForwardAttempts attempts)
    {
        // Status-code pages must not decorate a worker's answer (an empty 404 would gain a body).
        if (context.Features.Get<IStatusCodePagesFeature>() is { } pages) pages.Enabled = false;
        // The proxy streams bodies, so it takes any size; the node's default 1 MiB limit is for its own endpoints.
        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit) limit.MaxRequestBodySize = null;

        var request = context.Request;
        using var exchange = new Exchange(_time, config.Timeouts, hasBody);
        context.Features.Set(exchange);
        var responseBody = context.Features.Get<IHttpResponseBodyFeature>();
        if (responseBody is not null) context.Features.Set<IHttpResponseBodyFeature>(new ObservedResponseBody(responseBody, exchange));
        var clientBody = hasBody ? new ObservedRequestBody(request.Body, exchange, request.ContentLength) : null;
        byte[]? buffered = null;
        if (clientBody is not null && attempts.ShouldBuffer(request.ContentLength))
        {
            buffered = await BufferBodyAsync(context, clientBody, request.ContentLength!.Value, exchange);
            if (buffered is null) return;
            attempts.BodyBuffered();
        }
        else if (clientBody is not null)
        {
            request.Body = clientBody;
        }

        var tried = new List<Backend>(attempts.MaxAttempts);
        while (true)
        {
            var available = _pool.Candidates(_time.GetUtcNow(), tried, config.PanicThresholdPercent, out var panic);
            if (attempts.Count == 0) NotePanic(panic);
            if (!attempts.TryBegin(available.Count)) break;

            var backend = _state.Policy.Pick(available);
            tried.Add(backend);
            if (buffered is not null) request.Body = new MemoryStream(buffered, writable: false);

            exchange.BeginAttempt();
            exchange.RetryOn5xx = attempts.MayHoldBack5xx(exchange.BodyStarted)
                ? () => attempts.TryHoldBack5xx(exchange.BodyStarted,
                    anotherWorker: _pool.Candidates(_time.GetUtcNow(), tried, config.PanicThresholdPercent, out _).Count > 0)
                : null;
            var started = _time.GetTimestamp();
            backend.Started(isRetry: attempts.Count > 1);
            var error = await _forwarder.SendAsync(context, backend.BaseUrl, _invoker, RequestConfig, WorkerTransformer.Instance, exchange.Token);
            var exception = context.Features.Get<IForwarderErrorFeature>()?.Exception;
            var result = new AttemptResult
            {
                Error = error,
                Expired = exchange.Expired,
                ClientAborted = context.RequestAborted.IsCancellationRequested,
                ResponseStarted = context.Response.HasStarted,
                HeldBackStatus = exchange.RetriedStatus,
                BodyStarted = exchange.BodyStarted,
                ConnectionRefused = IsConnectionRefused(exception),
                ErrorMessage = exception?.Message,
            };
            var passive = _state.Config.Passive;
            var verdict = attempts.After(backend.Id, result);
            switch (verdict)
            {
                case AttemptVerdict.ClientFault:
                    // The client left, stalled or broke its side: that says nothing about the worker.
                    backend.Abandoned();
                    await AnswerClientFaultAsync(context, result.Expired == Expiry.ClientIdle, config.Timeouts.Activity);
                    return;
                case AttemptVerdict.RetryAfter5xx:
                    RecordAnswer(backend, result.HeldBackStatus!.Value, passive);
                    backend.Finished(failed: passive.Count5xx, _time.GetElapsedTime(started));
                    context.Response.Clear();
                    continue;
                case AttemptVerdict.Answered:
                    var status = context.Response.StatusCode;
                    RecordAnswer(backend, status, passive);
                    backend.Finished(failed: status >= 500 && passive.Count5xx, _time.GetElapsedTime(started));
                    return;
            }

            // The worker failed this attempt: it refused or broke the connection, sent bad headers, timed out or stalled.
            backend.Finished(failed: true, _time.GetElapsedTime(started));
            if (backend.Outlier.RecordFailure(_time.GetUtcNow(), passive, immediate: result.ConnectionRefused) is { } length)
                LogEjected(_logger, backend.Id, length.TotalMilliseconds, attempts.Last!.Reason);
            if (verdict == AttemptVerdict.Reset) return;
            context.Response.Clear();
            context.Features.Set<IForwarderErrorFeature>(null);
            if (verdict == AttemptVerdict.GiveUp) break;
        }

        var problem = attempts.Problem(config.Timeouts);
        await WriteProblemAsync(context, problem.Status, problem.Title, problem.Detail);
    }

    /// <summary>408 when the client stalled mid-upload, 400 when its side broke; nothing when it left or the answer had started.</summary>
    private static async Task AnswerClientFaultAsync(HttpContext context, bool stalled, TimeSpan activity)
    {
        if (!context.RequestAborted.IsCancellationRequested && !context.Response.HasStarted)
        {
            context.Response.Clear();
            await WriteProblemAsync(context, stalled ? StatusCodes.Status408RequestTimeout : StatusCodes.Status400BadRequest,
                "Request body failed", stalled
                    ? $"the client sent nothing for {Durations.Format(activity)} (timeouts.activity)"
                    : "the request body could not be read from the client");
        }
        else if (stalled)
        {
            context.Abort();
        }
    }

    private void RecordAnswer(Backend backend, int status, PassiveHealthConfig passive)
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

    /// <summary>
    /// Reads a body whole (through the exchange's idle deadline), so a retry can send it again. The buffer grows with what
    /// arrives, from <see cref="RequestBody.InitialBytes"/> up to the <paramref name="length"/> the client announced: a client
    /// that claims much and sends little costs what it sent.
    /// </summary>
    internal static async Task<byte[]?> BufferBodyAsync(HttpContext context, Stream body, long length, Exchange exchange)
    {
        var buffer = new byte[(int)Math.Min(length, RequestBody.InitialBytes)];
        var filled = 0;
        try
        {
            using var cancel = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, exchange.Token);
            while (filled < length)
            {
                if (filled == buffer.Length) Array.Resize(ref buffer, (int)Math.Min(length, buffer.Length * 2L));
                var read = await body.ReadAsync(buffer.AsMemory(filled), cancel.Token);
                if (read == 0) throw new EndOfStreamException();
                filled += read;
            }

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
