using System.Text.Json;
using Corral.Node.Storage;
using Corral.Shootout.Game;

namespace Corral.Shootout.Store;

/// <summary>
/// <c>&lt;run&gt;/events.jsonl</c>: one JSON event per line, derived from the store. The writer appends each
/// committed batch; a write that fails (disk full, the file gone, a broken descriptor) only leaves the file
/// <see cref="Behind"/>, never undoes or fails the commit, and <see cref="CatchUp"/> later cuts any partial last
/// line and appends what the store committed after the file's last whole event. A file that is not a prefix of
/// the store's history (its last line is not an event, or names a sequence the store never committed) is
/// rewritten from the store.
/// </summary>
internal sealed class EventLog : IDisposable
{
    private FileStream? _stream;

    /// <summary>A log that is not yet open: it is <see cref="Behind"/> until the first <see cref="CatchUp"/>.</summary>
    public EventLog(string path) => Path = path;

    public string Path { get; }

    /// <summary>True when the file may lack committed events: never caught up, or a write failed since.</summary>
    public bool Behind => _stream is null;

    /// <summary>
    /// Opens the file if needed, cuts a partial last line, and appends the committed events it lacks; returns how many
    /// lines were appended. <paramref name="committedAfter"/> gives the store's events after a sequence number, and
    /// <paramref name="committedSeq"/> is the last one the store holds. Throws when the file cannot be written; the
    /// log then stays <see cref="Behind"/>.
    /// </summary>
    public int CatchUp(Func<long, IReadOnlyList<GameEvent>> committedAfter, long committedSeq)
    {
        try
        {
            if (_stream is null)
            {
                Directory.CreateDirectory(System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(Path))!);

                // Unbuffered: a failed write must leave nothing in a buffer that a later flush could still write.
                _stream = PrivateFiles.OpenForWriting(Path, FileMode.OpenOrCreate, FileShare.Read, FileAccess.ReadWrite, bufferSize: 0);
            }

            var lastSeq = TruncatePartialLine();
            if (lastSeq is null || lastSeq > committedSeq)
            {
                _stream.SetLength(0);
                lastSeq = 0;
            }

            _stream.Seek(0, SeekOrigin.End);
            var missing = committedAfter(lastSeq.Value);
            if (missing.Count > 0) _stream.Write(new EncodedEvents().Encode(missing).All);
            return missing.Count;
        }
        catch
        {
            Close();
            throw;
        }
    }

    /// <summary>
    /// Appends an encoded batch with one write, straight to the operating system (it survives the process, not the
    /// machine). False, and <see cref="Behind"/>, when the log is behind or the write failed: the caller catches up later.
    /// </summary>
    public bool TryAppend(EncodedEvents events, out Exception? error)
    {
        error = null;
        if (_stream is null) return false;
        if (events.Count == 0) return true;
        try
        {
            _stream.Write(events.All);
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or NotSupportedException)
        {
            error = e;
            Close();
            return false;
        }
    }

    /// <summary>The sequence of the last whole line after cutting a partial one; 0 for an empty file; null when that line is not an event.</summary>
    private long? TruncatePartialLine()
    {
        var stream = _stream!;
        var length = stream.Length;
        if (length == 0) return 0;

        // Read backwards to the last newline: everything after it is a line cut short by a kill or a failed write.
        var end = length;
        var buffer = new byte[8192];
        long lastNewline = -1;
        while (end > 0 && lastNewline < 0)
        {
            var start = Math.Max(0, end - buffer.Length);
            var count = (int)(end - start);
            stream.Seek(start, SeekOrigin.Begin);
            stream.ReadExactly(buffer, 0, count);
            var at = Array.LastIndexOf(buffer, (byte)'\n', count - 1, count);
            if (at >= 0) lastNewline = start + at;
            end = start;
        }

        stream.SetLength(lastNewline + 1);
        if (lastNewline < 0) return 0;

        // The last whole line names the last sequence the file holds.
        var lineStart = lastNewline;
        while (lineStart > 0)
        {
            stream.Seek(lineStart - 1, SeekOrigin.Begin);
            if (stream.ReadByte() == '\n') break;
            lineStart--;
        }

        var line = new byte[lastNewline - lineStart];
        stream.Seek(lineStart, SeekOrigin.Begin);
        stream.ReadExactly(line);
        try
        {
            return JsonSerializer.Deserialize(line, GameEventJson.Default.GameEvent)?.Seq;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private void Close()
    {
        var stream = _stream;
        _stream = null;
        try
        {
            stream?.Dispose();
        }
        catch (IOException)
        {
            // Closing a broken descriptor may report the same failure again; the file is caught up from the store anyway.
        }
    }

    public void Dispose() => Close();
}
