using Corral.Node.Nodes;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Corral.Counter.Items;

/// <summary>Reads a whole request body up to a limit; a larger one is a 413 that names the limit. Any content type is taken, as the original did.</summary>
internal static class BodyReader
{
    public static async Task<(byte[]? Body, int Length, ProblemHttpResult? Problem)> ReadAsync(HttpRequest request, long maxBytes)
    {
        var tooLarge = JsonBody.Problem(StatusCodes.Status413PayloadTooLarge, "Body too large",
            $"the body may be at most {maxBytes} bytes: send fewer items per request");
        if (request.ContentLength > maxBytes) return (null, 0, tooLarge);
        var buffer = new byte[request.ContentLength is > 0 and var known ? (int)known : 16 * 1024];
        var length = 0;
        try
        {
            while (true)
            {
                if (length == buffer.Length)
                {
                    if (buffer.Length >= maxBytes + 1) return (null, 0, tooLarge);
                    Array.Resize(ref buffer, (int)Math.Min(maxBytes + 1, buffer.Length * 2L));
                }

                var read = await request.Body.ReadAsync(buffer.AsMemory(length), request.HttpContext.RequestAborted);
                if (read == 0) break;
                length += read;
                if (length > maxBytes) return (null, 0, tooLarge);
            }
        }
        catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return (null, 0, tooLarge);
        }

        return (buffer, length, null);
    }

    /// <summary>
    /// Reads and parses a <c>POST /items</c> body, as the coordinator and the workers both take it: the items, or the
    /// problem to answer (413 for a body over the limit, 400 naming the bad item; nothing of the batch is written).
    /// </summary>
    public static async Task<(List<Item>? Items, ProblemHttpResult? Problem)> ReadItemsAsync(HttpRequest request, int batchLimit)
    {
        var (body, length, tooLarge) = await ReadAsync(request, NodeHost.DefaultMaxRequestBodyBytes);
        if (tooLarge is not null) return (null, tooLarge);
        var parsed = ItemBatchParser.Parse(body.AsSpan(0, length), batchLimit);
        return parsed.Problem is { } problem
            ? (null, JsonBody.Problem(StatusCodes.Status400BadRequest, "Invalid items", problem + "; nothing was written"))
            : (parsed.Items!, null);
    }
}
