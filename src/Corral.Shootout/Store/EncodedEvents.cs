using System.Buffers;
using System.Text.Json;
using Corral.Shootout.Game;

namespace Corral.Shootout.Store;

/// <summary>
/// A batch of events serialised once, as JSON lines: the store's rows and <c>events.jsonl</c> take the
/// same bytes, so the writer loop pays for serialisation once per event. Reused batch after batch.
/// </summary>
internal sealed class EncodedEvents
{
    private readonly ArrayBufferWriter<byte> _buffer = new(64 * 1024);
    private readonly List<(int Start, int Length)> _lines = [];
    private readonly Utf8JsonWriter _writer;

    public EncodedEvents() => _writer = new Utf8JsonWriter(_buffer, new JsonWriterOptions { SkipValidation = true });

    public int Count => _lines.Count;

    /// <summary>Every line, each ending in a newline.</summary>
    public ReadOnlySpan<byte> All => _buffer.WrittenSpan;

    /// <summary>One event's JSON, without its newline.</summary>
    public ReadOnlySpan<byte> Json(int index)
    {
        var (start, length) = _lines[index];
        return _buffer.WrittenSpan.Slice(start, length);
    }

    public EncodedEvents Encode(IReadOnlyList<GameEvent> events)
    {
        _buffer.ResetWrittenCount();
        _lines.Clear();
        foreach (var e in events)
        {
            var start = _buffer.WrittenCount;
            _writer.Reset(_buffer);
            JsonSerializer.Serialize(_writer, e, GameEventJson.Default.GameEvent);
            _writer.Flush();
            _lines.Add((start, _buffer.WrittenCount - start));
            _buffer.GetSpan(1)[0] = (byte)'\n';
            _buffer.Advance(1);
        }

        return this;
    }
}
