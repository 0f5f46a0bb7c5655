using System.Globalization;
using System.Text.Json;
using YamlDotNet.Core;
using YamlDotNet.Core.Events;

namespace Corral.Render;

/// <summary>
/// Writes JSON documents as one YAML stream through YamlDotNet's emitter (no reflection): Kubernetes' typed models
/// serialize to JSON through the client's source-generated context, and YAML is JSON's superset with nicer text.
/// </summary>
internal static class JsonYamlWriter
{
    public static string Write(IEnumerable<JsonElement> documents)
    {
        using var text = new StringWriter(CultureInfo.InvariantCulture);
        var emitter = new Emitter(text);
        emitter.Emit(new StreamStart());
        foreach (var document in documents)
        {
            emitter.Emit(new DocumentStart(null, null, isImplicit: false));
            WriteValue(emitter, document);
            emitter.Emit(new DocumentEnd(isImplicit: true));
        }

        emitter.Emit(new StreamEnd());
        return text.ToString();
    }

    private static void WriteValue(IEmitter emitter, JsonElement value)
    {
        switch (value.ValueKind)
        {
            case JsonValueKind.Object:
                emitter.Emit(new MappingStart());
                foreach (var property in value.EnumerateObject())
                {
                    Scalar(emitter, property.Name, ScalarStyle.Any);
                    WriteValue(emitter, property.Value);
                }

                emitter.Emit(new MappingEnd());
                break;
            case JsonValueKind.Array:
                emitter.Emit(new SequenceStart(null, null, false, SequenceStyle.Block));
                foreach (var item in value.EnumerateArray())
                {
                    WriteValue(emitter, item);
                }

                emitter.Emit(new SequenceEnd());
                break;
            case JsonValueKind.String:
                var s = value.GetString()!;
                // A string that reads as another type (a port "8080", "true", "null") keeps its quotes; multi-line text is a block.
                Scalar(emitter, s, s.Contains('\n') ? ScalarStyle.Literal : LooksTyped(s) ? ScalarStyle.DoubleQuoted : ScalarStyle.Any);
                break;
            case JsonValueKind.Null:
                Scalar(emitter, "null", ScalarStyle.Plain);
                break;
            default:
                Scalar(emitter, value.GetRawText(), ScalarStyle.Plain);
                break;
        }
    }

    private static bool LooksTyped(string s) =>
        s.Length == 0 || s is "true" or "false" or "null" or "~" or "yes" or "no" or "on" or "off" ||
        double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out _);

    private static void Scalar(IEmitter emitter, string value, ScalarStyle style) =>
        emitter.Emit(new Scalar(null, null, value, style, style is ScalarStyle.Plain or ScalarStyle.Any, style != ScalarStyle.Plain));
}
