using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Corral.Node.Http;

/// <summary>A body read whole: its bytes (<see cref="Bytes"/>[..<see cref="Length"/>]), or the 4xx problem to answer instead.</summary>
public readonly record struct BodyRead(byte[]? Bytes, int Length, ProblemHttpResult? Problem)
{
    public ReadOnlySpan<byte> Span => Bytes.AsSpan(0, Length);
}

/// <summary>
/// Reads a request body whole, as it arrives: the buffer starts small and doubles with what came, up to the limit, so a
/// client that claims a large <c>Content-Length</c> and sends little costs what it sent. The whole read has a deadline
/// (<see cref="Timeout"/>), on top of Kestrel's minimum data rate (<see cref="HttpServer.MinBodyDataRate"/>): a client that
/// trickles just above the rate cannot hold a request open for an hour.
/// </summary>
public static class RequestBody
{
    /// <summary>How long a whole body may take to arrive; a slower one gets 408.</summary>
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    /// <summary>The first buffer's size (a shot or a claim fits); it doubles as the body arrives.</summary>
    public const int InitialBytes = 1024;

    /// <param name="request">The request whose body is read.</param>
    /// <param name="maxBytes">The largest body taken; a larger one is a 413 whatever its <c>Content-Length</c> said.</param>
    /// <param name="tooLargeHint">What the 413 tells the client to do instead (after "the body may be at most N bytes").</param>
    /// <param name="timeout">The whole read's deadline; <see cref="Timeout"/> unless a test says otherwise.</param>
    public static async Task<BodyRead> ReadAsync(HttpRequest request, long maxBytes, string? tooLargeHint = null, TimeSpan? timeout = null)
    {
        var limit = timeout ?? Timeout;
        var tooLarge = Problem(StatusCodes.Status413PayloadTooLarge, "Body too large",
            $"the body may be at most {maxBytes} bytes{(tooLargeHint is null ? "" : ": " + tooLargeHint)}");
        // The header is trusted only to refuse early, never to size a buffer.
        if (request.ContentLength > maxBytes) return new(null, 0, tooLarge);
        var buffer = new byte[(int)Math.Min(InitialBytes, maxBytes + 1)];
        var length = 0;
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(request.HttpContext.RequestAborted);
        deadline.CancelAfter(limit);
        try
        {
            while (true)
            {
                if (length == buffer.Length)
                {
                    // Room for one byte past the limit: reading it is how a body without a Content-Length is found too large.
                    if (buffer.Length > maxBytes) return new(null, 0, tooLarge);
                    Array.Resize(ref buffer, (int)Math.Min(maxBytes + 1, buffer.Length * 2L));
                }

                var read = await request.Body.ReadAsync(buffer.AsMemory(length), deadline.Token);
                if (read == 0) break;
                length += read;
                if (length > maxBytes) return new(null, 0, tooLarge);
            }
        }
        catch (BadHttpRequestException e)
        {
            // Kestrel's own verdicts: over its size limit (413), below the minimum data rate (408), cut short (400).
            return new(null, 0, Problem(e.StatusCode, "Request body failed", e.Message));
        }
        catch (OperationCanceledException) when (!request.HttpContext.RequestAborted.IsCancellationRequested)
        {
            return new(null, 0, Problem(StatusCodes.Status408RequestTimeout, "Request body too slow",
                $"the body did not arrive within {limit.TotalSeconds:0.#} s"));
        }
        catch (Exception e) when (e is OperationCanceledException or IOException)
        {
            // The client left or broke its side: no one reads this answer, but it is not the server's failure.
            return new(null, 0, Problem(StatusCodes.Status400BadRequest, "Request body failed", "the request body could not be read from the client"));
        }

        return new(buffer, length, null);
    }

    private static ProblemHttpResult Problem(int status, string title, string detail) =>
        TypedResults.Problem(statusCode: status, title: title, detail: detail);
}
