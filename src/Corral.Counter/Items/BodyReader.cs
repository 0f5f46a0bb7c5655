using Corral.Node.Http;
using Corral.Node.Nodes;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Corral.Counter.Items;

/// <summary>Reads a whole request body as it arrives, up to a limit; a larger one is a 413 that names the limit. Any content type is taken, as the original did.</summary>
internal static class BodyReader
{
    public static async Task<(byte[]? Body, int Length, ProblemHttpResult? Problem)> ReadAsync(HttpRequest request, long maxBytes)
    {
        var body = await RequestBody.ReadAsync(request, maxBytes, "send fewer items per request");
        return (body.Bytes, body.Length, body.Problem);
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
