using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using Corral.Node.Http;
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
        if (request.ContentType is { } type && !JsonWrites.IsJson(type))
        {
            return (null, Problem(StatusCodes.Status415UnsupportedMediaType, "Unsupported media type", "send the body as application/json"));
        }

        var body = await RequestBody.ReadAsync(request, maxBytes);
        if (body.Problem is { } failed) return (null, failed);
        if (body.Length == 0)
        {
            return (null, Problem(StatusCodes.Status400BadRequest, "Empty body", $"expected a JSON {typeof(T).Name}"));
        }

        try
        {
            var value = JsonSerializer.Deserialize(body.Span, Strict(json));
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
