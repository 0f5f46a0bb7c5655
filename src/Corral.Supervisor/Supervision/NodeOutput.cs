using System.Text;
using Corral.Node.Storage;

namespace Corral.Supervisor.Supervision;

/// <summary>
/// One node's output across its restarts: every line goes to the sink and to <c>logs/&lt;node&gt;.log</c>,
/// and the last few are kept for failure messages.
/// </summary>
internal sealed class NodeOutput : IDisposable
{
    private const int TailLines = 20;
    private readonly string _nodeId;
    private readonly IOutputSink _sink;
    private readonly StreamWriter _file;
    private readonly Queue<string> _tail = new();
    private readonly Lock _lock = new();

    public NodeOutput(string nodeId, string logPath, IOutputSink sink)
    {
        _nodeId = nodeId;
        _sink = sink;
        var stream = PrivateFiles.OpenForWriting(logPath, FileMode.Append, FileShare.ReadWrite | FileShare.Delete);
        _file = new StreamWriter(stream, new UTF8Encoding(false)) { AutoFlush = true };
    }

    public void Line(string line)
    {
        lock (_lock)
        {
            _tail.Enqueue(line);
            if (_tail.Count > TailLines)
            {
                _tail.Dequeue();
            }

            try
            {
                _file.Write(line);
                _file.Write('\n');
            }
            catch (ObjectDisposedException)
            {
                // A reader may deliver a last line after the run closed its logs; the sink still shows it.
            }
        }

        _sink.NodeLine(_nodeId, line);
    }

    public IReadOnlyList<string> Tail()
    {
        lock (_lock)
        {
            return _tail.ToArray();
        }
    }

    /// <summary>Copies a stream line by line as it arrives until the pipe closes.</summary>
    public async Task PumpAsync(StreamReader reader)
    {
        try
        {
            while (await reader.ReadLineAsync() is { } line)
            {
                Line(line);
            }
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException)
        {
            // The pipe broke because the process and its group are gone; nothing more will come.
        }
    }

    public void Dispose()
    {
        lock (_lock)
        {
            _file.Dispose();
        }
    }
}
