using System.Buffers;
using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Corral.Node.Nodes;

/// <summary>
/// Reads a JSON request body with a size limit and strict parsing (unknown fields refused), turning
/// every failure into a 400 problem that says what is wrong, so a bad body changes nothing.
/// </summary>
public static class JsonBody
{
    // One strict copy per source-generated context's options: the same contract, unknown fields refused.
    private static readonly ConditionalWeakTable<JsonSerializerOptions, JsonSerializerOptions> StrictOptions = new();

    public static async Task<(T? Value, ProblemHttpResult? Problem)> ReadAsync<T>(HttpRequest request, JsonTypeInfo<T> json,
        long maxBytes = 64 * 1024)
        where T : class
    {
        if (request.ContentLength > maxBytes)
        {
            return (null, Problem(StatusCodes.Status413PayloadTooLarge, "Body too large", $"the body may be at most {maxBytes} bytes"));
        }

        if (request.ContentType is { } type && !type.StartsWith("application/json", StringComparison.OrdinalIgnoreCase))
        {
            return (null, Problem(StatusCodes.Status415UnsupportedMediaType, "Unsupported media type", "send the body as application/json"));
        }

        using var buffer = new MemoryStream();
        // Rented: this runs on every shot and every register, and a fresh 8 KB array per request showed up as GC pressure.
        var chunk = ArrayPool<byte>.Shared.Rent(8192);
        try
        {
            int read;
            while ((read = await request.Body.ReadAsync(chunk, request.HttpContext.RequestAborted)) > 0)
            {
                if (buffer.Length + read > maxBytes)
                {
                    return (null, Problem(StatusCodes.Status413PayloadTooLarge, "Body too large", $"the body may be at most {maxBytes} bytes"));
                }

                buffer.Write(chunk, 0, read);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(chunk);
        }

        if (buffer.Length == 0)
        {
            return (null, Problem(StatusCodes.Status400BadRequest, "Empty body", $"expected a JSON {typeof(T).Name}"));
        }

        try
        {
            var value = JsonSerializer.Deserialize(buffer.GetBuffer().AsSpan(0, (int)buffer.Length), Strict(json));
            return value is null
                ? (null, Problem(StatusCodes.Status400BadRequest, "Malformed JSON", $"expected a JSON {typeof(T).Name}, got null"))
                : (value, null);
        }
        catch (JsonException e)
        {
            return (null, Problem(StatusCodes.Status400BadRequest, "Malformed JSON", e.Message));
        }
    }

    /// <summary>The type's contract with unknown fields refused (and trailing commas, as by default).</summary>
    public static JsonTypeInfo<T> Strict<T>(JsonTypeInfo<T> json)
    {
        var strict = StrictOptions.GetValue(json.Options, static options => new JsonSerializerOptions(options)
        {
            UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
            AllowTrailingCommas = false,
        });
        return (JsonTypeInfo<T>)strict.GetTypeInfo(typeof(T));
    }

    public static ProblemHttpResult Problem(int status, string title, string detail) =>
        TypedResults.Problem(statusCode: status, title: title, detail: detail);
}
