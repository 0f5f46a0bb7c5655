using System.Text.Json;

namespace Corral.Counter.Items;

/// <summary>A parsed batch, or the first thing wrong with it (naming the item), never both.</summary>
public readonly record struct ParsedBatch(List<Item>? Items, string? Problem);

/// <summary>
/// Reads <c>[{"id": "...", "tenant": "..."}, ...]</c> in one pass with <see cref="Utf8JsonReader"/>: strict (no
/// unknown or repeated fields, strings only), every item checked against <see cref="ItemRules"/>, the batch
/// against its limit. The whole body is checked before anything is applied, so a bad item changes nothing.
/// </summary>
public static class ItemBatchParser
{
    private static readonly JsonReaderOptions Options = new() { AllowTrailingCommas = false, CommentHandling = JsonCommentHandling.Disallow, MaxDepth = 4 };

    public static ParsedBatch Parse(ReadOnlySpan<byte> json, int limit)
    {
        var reader = new Utf8JsonReader(json, Options);
        try
        {
            if (!reader.Read()) return Fail("the body is empty: expected a JSON array of {\"id\", \"tenant\"} objects");
            if (reader.TokenType != JsonTokenType.StartArray)
            {
                return Fail($"the body is a JSON {Kind(reader.TokenType)}: expected an array of {{\"id\", \"tenant\"}} objects");
            }

            var items = new List<Item>();
            while (true)
            {
                reader.Read();
                if (reader.TokenType == JsonTokenType.EndArray) break;
                var index = items.Count;
                if (index >= limit) return Fail($"the batch has more than {limit} items (the limit); split it into several requests");
                if (reader.TokenType != JsonTokenType.StartObject)
                {
                    return Fail($"item {index} is a JSON {Kind(reader.TokenType)}: expected an object {{\"id\": \"...\", \"tenant\": \"...\"}}");
                }

                string? id = null;
                string? tenant = null;
                while (true)
                {
                    reader.Read();
                    if (reader.TokenType == JsonTokenType.EndObject) break;
                    var isId = reader.ValueTextEquals("id"u8);
                    var isTenant = !isId && reader.ValueTextEquals("tenant"u8);
                    if (!isId && !isTenant)
                    {
                        return Fail($"item {index} has an unknown field '{reader.GetString()}': an item has only \"id\" and \"tenant\"");
                    }

                    var field = isId ? "id" : "tenant";
                    if ((isId ? id : tenant) is not null) return Fail($"item {index} has \"{field}\" twice");
                    reader.Read();
                    if (reader.TokenType != JsonTokenType.String)
                    {
                        return Fail($"item {index}: {field} is a JSON {Kind(reader.TokenType)}: expected a string of 1-{ItemRules.MaxLength} characters from {ItemRules.CharacterSet}");
                    }

                    var value = reader.GetString()!;
                    if (ItemRules.Problem(value) is { } problem) return Fail($"item {index}: {field} {ItemRules.Show(value)} {problem}");
                    if (isId) id = value;
                    else tenant = value;
                }

                if (id is null || tenant is null)
                {
                    return Fail($"item {index} has no \"{(id is null ? "id" : "tenant")}\": every item needs both \"id\" and \"tenant\"");
                }

                items.Add(new Item(id, tenant));
            }

            if (reader.Read()) return Fail("the body has more after the array: send one JSON array");
            return new ParsedBatch(items, null);
        }
        catch (JsonException e)
        {
            return Fail($"malformed JSON at byte {reader.BytesConsumed}: {e.Message}");
        }
        catch (InvalidOperationException e)
        {
            // The reader checks a string's UTF-8 only when it is read as text (GetString), and then throws this, not a JsonException.
            return Fail($"malformed JSON at byte {reader.BytesConsumed}: {e.Message}");
        }
    }

    private static ParsedBatch Fail(string problem) => new(null, problem);

    private static string Kind(JsonTokenType token) => token switch
    {
        JsonTokenType.Number => "number",
        JsonTokenType.String => "string",
        JsonTokenType.True or JsonTokenType.False => "boolean",
        JsonTokenType.Null => "null",
        JsonTokenType.StartArray => "array",
        JsonTokenType.StartObject => "object",
        _ => token.ToString(),
    };
}
