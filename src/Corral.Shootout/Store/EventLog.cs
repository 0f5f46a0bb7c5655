using System.Text;
using System.Text.Json;
using Corral.Shootout.Game;

namespace Corral.Shootout.Store;

/// <summary>
/// <c>&lt;run&gt;/events.jsonl</c>: one JSON event per line, appended after each batch is committed to the
/// store and flushed per batch. The store is the truth; on start <see cref="Repair"/> cuts a partial last
/// line (a kill mid-write) and appends the committed events the file is missing.
/// </summary>
public sealed class EventLog : IDisposable
{
    private readonly FileStream _stream;

    public EventLog(string path)
    {
        Path = path;
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path))!);
        _stream = new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.Read, 64 * 1024);
        _stream.Seek(0, SeekOrigin.End);
    }

    public string Path { get; }

    /// <summary>Truncates a partial last line and appends what the store has and the file lacks; returns how many lines were appended.</summary>
    public int Repair(IReadOnlyList<GameEvent> committed)
    {
        var lastSeq = TruncatePartialLine();
        var missing = committed.Where(e => e.Seq > lastSeq).ToArray();
        Append(missing);
        return missing.Length;
    }

    /// <summary>Appends a batch and flushes it to the operating system (it survives the process, not the machine).</summary>
    public void Append(IReadOnlyList<GameEvent> events)
    {
        if (events.Count > 0) Append(new EncodedEvents().Encode(events));
    }

    /// <summary>Appends an encoded batch with one write and flushes it to the operating system.</summary>
    public void Append(EncodedEvents events)
    {
        if (events.Count == 0) return;
        _stream.Write(events.All);
        _stream.Flush();
    }

    private long TruncatePartialLine()
    {
        _stream.Flush();
        var length = _stream.Length;
        if (length == 0) return 0;

        // Read backwards to the last newline: everything after it is a line cut short by a kill.
        var end = length;
        var buffer = new byte[8192];
        long lastNewline = -1;
        while (end > 0 && lastNewline < 0)
        {
            var start = Math.Max(0, end - buffer.Length);
            var count = (int)(end - start);
            _stream.Seek(start, SeekOrigin.Begin);
            _stream.ReadExactly(buffer, 0, count);
            var at = Array.LastIndexOf(buffer, (byte)'\n', count - 1, count);
            if (at >= 0) lastNewline = start + at;
            end = start;
        }

        _stream.SetLength(lastNewline + 1);
        _stream.Seek(0, SeekOrigin.End);
        if (lastNewline < 0) return 0;

        // The last whole line names the last sequence the file holds.
        var lineStart = lastNewline;
        while (lineStart > 0)
        {
            _stream.Seek(lineStart - 1, SeekOrigin.Begin);
            if (_stream.ReadByte() == '\n') break;
            lineStart--;
        }

        var line = new byte[lastNewline - lineStart];
        _stream.Seek(lineStart, SeekOrigin.Begin);
        _stream.ReadExactly(line);
        _stream.Seek(0, SeekOrigin.End);
        try
        {
            return JsonSerializer.Deserialize(line, GameEventJson.Default.GameEvent)?.Seq ?? 0;
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{Path}: the last line is not an event ({e.Message}): {Encoding.UTF8.GetString(line)}");
        }
    }

    public void Dispose()
    {
        _stream.Dispose();
    }
}
