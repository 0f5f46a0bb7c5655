using System.Net;
using System.Net.Sockets;
using Corral.Balancer.Config;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;

namespace Corral.Balancer.Proxy;

/// <summary>
/// Forwards one client request to a worker and streams the answer back, in the manner of YARP's forwarder: pooled
/// keep-alive connections, no redirects, decompression or cookies, bodies streamed both ways, hop-by-hop headers
/// dropped and X-Forwarded-* added. On a failed attempt it retries on another worker when that is safe: the method is
/// retryable and the request body was either not sent at all or buffered for replay.
/// </summary>
internal sealed partial class BalancerProxy : IDisposable
{
    private readonly BackendPool _pool;
    private readonly BalancerState _state;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly HttpMessageInvoker _invoker;

    public BalancerProxy(BackendPool pool, BalancerState state, TimeProvider time, ILogger logger)
    {
        _pool = pool;
        _state = state;
        _time = time;
        _logger = logger;
        _invoker = new HttpMessageInvoker(new SocketsHttpHandler
        {
            UseProxy = false,
            AllowAutoRedirect = false,
            AutomaticDecompression = DecompressionMethods.None,
            UseCookies = false,
            EnableMultipleHttp2Connections = true,
            ConnectTimeout = state.Config.Timeouts.Connect,
            PooledConnectionIdleTimeout = TimeSpan.FromSeconds(60),
            // The proxy forwards the client's trace headers as they are; it adds none of its own.
            ActivityHeadersPropagator = null,
        }, disposeHandler: true);
    }

    private readonly RetryBudget _retryBudget = new();
    private int _active;

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
        var clientAborted = context.RequestAborted;
        using var overall = CancellationTokenSource.CreateLinkedTokenSource(clientAborted);
        overall.CancelAfter(config.Timeouts.Request);
        var retryable = config.Retries.Methods.Contains(request.Method, StringComparer.OrdinalIgnoreCase);
        var maxAttempts = 1 + (retryable ? config.Retries.Attempts : 0);

        // Kestrel knows whether the request has a body (Content-Length, chunked, or an HTTP/2 stream's data), as YARP asks it.
        var hasBody = context.Features.Get<IHttpRequestBodyDetectionFeature>()?.CanHaveBody
            ?? (request.ContentLength > 0 || request.Headers.TransferEncoding.Count > 0);
        byte[]? buffered = null;
        if (hasBody && retryable && maxAttempts > 1 && request.ContentLength <= config.Retries.BufferBodyBytes)
        {
            buffered = await BufferBodyAsync(request, (int)request.ContentLength.Value, overall.Token);
            if (buffered is null) return;
        }

        var tried = new List<Backend>(maxAttempts);
        var retryGranted = false;
        Failure? last = null;
        for (var attempt = 1; attempt <= maxAttempts; attempt++)
        {
            var now = _time.GetUtcNow();
            var available = _pool.Available(now, tried);
            if (available.Count == 0) break;
            // A 5xx retry took its budget before it let go of the answer; any other retry takes it here.
            if (attempt > 1 && !retryGranted && !mayRetry()) break;
            retryGranted = false;
            var backend = _state.Policy.Pick(available);
            tried.Add(backend);

            StreamingBodyContent? streamed = null;
            HttpContent? content = null;
            if (buffered is not null) content = new ByteArrayContent(buffered);
            else if (hasBody) content = streamed = new StreamingBodyContent(request.Body, request.ContentLength, clientAborted);

            using var upstream = new HttpRequestMessage(MethodOf(request.Method), backend.BaseUrl + request.PathBase + request.Path + request.QueryString)
            {
                Version = HttpVersion.Version11,
                VersionPolicy = HttpVersionPolicy.RequestVersionOrLower,
                Content = content,
            };
            if (content is not null && request.ContentLength is { } length) content.Headers.ContentLength = length;
            Headers.CopyRequest(context, upstream);

            var started = _time.GetTimestamp();
            backend.Started(isRetry: attempt > 1);
            HttpResponseMessage response;
            // Each attempt has its own bound inside the overall one, so a hung worker costs one attempt, not the request.
            using var attemptTimeout = CancellationTokenSource.CreateLinkedTokenSource(overall.Token);
            attemptTimeout.CancelAfter(config.Timeouts.Attempt);
            try
            {
                response = await _invoker.SendAsync(upstream, attemptTimeout.Token);
            }
            catch (Exception e) when (e is HttpRequestException or OperationCanceledException)
            {
                if (clientAborted.IsCancellationRequested || streamed is { ClientFailed: true })
                {
                    // The client left or stalled mid-body: that says nothing about the worker.
                    backend.Abandoned();
                    if (!clientAborted.IsCancellationRequested)
                    {
                        await WriteProblemAsync(context, StatusCodes.Status400BadRequest, "Request body failed",
                            "the request body could not be read from the client");
                    }

                    return;
                }

                var timedOut = attemptTimeout.IsCancellationRequested;
                var refused = IsConnectionRefused(e);
                backend.Finished(failed: true, _time.GetElapsedTime(started));
                var ejected = backend.Outlier.RecordFailure(_time.GetUtcNow(), _state.Config.Passive, immediate: refused);
                if (ejected is { } length2) LogEjected(_logger, backend.Id, length2.TotalMilliseconds, refused ? "connection refused" : e.Message);
                last = new Failure(backend.Id, timedOut ? "timeout" : e.Message, timedOut);
                if (overall.IsCancellationRequested) break;
                // Replaying is safe only if the worker never saw any of the body, or we kept a copy of it.
                if (streamed is { Started: true }) break;
                continue;
            }

            using (response)
            {
                var status = (int)response.StatusCode;
                var is5xx = status >= 500;
                var passive = _state.Config.Passive;
                if (is5xx && passive.Count5xx)
                {
                    if (backend.Outlier.RecordFailure(_time.GetUtcNow(), passive) is { } length3)
                        LogEjected(_logger, backend.Id, length3.TotalMilliseconds, $"{passive.ConsecutiveFailures} consecutive failures");
                }
                else
                {
                    backend.Outlier.RecordSuccess();
                }

                if (is5xx && _state.Config.Retries.On5xx && attempt < maxAttempts && streamed is not { Started: true }
                    && _pool.Available(_time.GetUtcNow(), tried).Count > 0 && mayRetry())
                {
                    retryGranted = true;
                    backend.Finished(failed: passive.Count5xx, _time.GetElapsedTime(started));
                    last = new Failure(backend.Id, $"status {status}", false);
                    continue;
                }

                var failed = await CopyResponseAsync(context, response, clientAborted);
                if (failed is null)
                {
                    backend.Abandoned();
                    return;
                }

                backend.Finished(failed: failed.Value || (is5xx && passive.Count5xx), _time.GetElapsedTime(started));
                if (failed.Value) backend.Outlier.RecordFailure(_time.GetUtcNow(), passive);
                return;
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
                $"no answer within {Corral.Hosting.Text.Durations.Format(config.Timeouts.Attempt)} per attempt and "
                + $"{Corral.Hosting.Text.Durations.Format(config.Timeouts.Request)} in all (last tried {last.WorkerId})");
        }
        else
        {
            await WriteProblemAsync(context, StatusCodes.Status502BadGateway, "Worker failed",
                $"{tried.Count} attempt(s) failed; the last, on {last.WorkerId}: {last.Reason}");
        }
    }

    /// <summary>Streams the worker's answer to the client. Returns false on success, true if the worker broke off, null if the client left.</summary>
    private static async Task<bool?> CopyResponseAsync(HttpContext context, HttpResponseMessage upstream, CancellationToken clientAborted)
    {
        var response = context.Response;
        response.StatusCode = (int)upstream.StatusCode;
        Headers.CopyResponse(upstream, response);
        context.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();
        try
        {
            await using var body = await upstream.Content.ReadAsStreamAsync(clientAborted);
            // No separate flush of the headers: they leave with the first chunk of the body, in one write.
            var length = upstream.Content.Headers.ContentLength;
            await body.CopyToAsync(response.Body, length is > 0 and < 16 * 1024 ? (int)length.Value : 64 * 1024, clientAborted);
            return false;
        }
        catch (Exception e) when (e is IOException or HttpRequestException or OperationCanceledException)
        {
            if (clientAborted.IsCancellationRequested) return null;
            // Headers may be out already: the only honest signal left to the client is a broken connection.
            context.Abort();
            return true;
        }
    }

    private static async Task<byte[]?> BufferBodyAsync(HttpRequest request, int length, CancellationToken cancellationToken)
    {
        var buffer = new byte[length];
        try
        {
            await request.Body.ReadExactlyAsync(buffer, cancellationToken);
            return buffer;
        }
        catch (Exception e) when (e is IOException or OperationCanceledException or EndOfStreamException)
        {
            request.HttpContext.Abort();
            return null;
        }
    }

    /// <summary>The shared instances for the common methods, so the handler's identity checks hit their fast paths.</summary>
    private static HttpMethod MethodOf(string method) => method switch
    {
        "GET" => HttpMethod.Get,
        "HEAD" => HttpMethod.Head,
        "POST" => HttpMethod.Post,
        "PUT" => HttpMethod.Put,
        "DELETE" => HttpMethod.Delete,
        "OPTIONS" => HttpMethod.Options,
        _ => new HttpMethod(method),
    };

    private static bool IsConnectionRefused(Exception e)
    {
        for (Exception? inner = e; inner is not null; inner = inner.InnerException)
        {
            if (inner is SocketException { SocketErrorCode: SocketError.ConnectionRefused }) return true;
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

        context.Response.StatusCode = status;
        return context.Response.WriteAsJsonAsync(new ProxyProblem(title, status, detail), BalancerJson.Default.ProxyProblem, contentType: "application/problem+json");
    }

    public void Dispose() => _invoker.Dispose();

    private sealed record Failure(string WorkerId, string Reason, bool TimedOut);

    [LoggerMessage(Level = LogLevel.Warning, Message = "ejected {WorkerId} for {Milliseconds} ms: {Reason}")]
    private static partial void LogEjected(ILogger logger, string workerId, double milliseconds, string reason);
}

/// <summary>The problem body the proxy writes itself when no worker could answer (RFC 9457 fields).</summary>
internal sealed record ProxyProblem(string Title, int Status, string Detail)
{
    public string Type => "https://tools.ietf.org/html/rfc9110#section-15.6";
}
