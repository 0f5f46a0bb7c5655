using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Corral.Node.Control;
using Corral.Node.Feeds;
using Corral.Node.Http;
using Corral.Supervisor.Supervision;

namespace Corral.Supervisor.Dashboard;

/// <summary>
/// Everything live the page shows, as server-sent event text: the node table, every log line (kept for the last
/// <see cref="Kept"/> lines, so a page opened late still shows recent history) and the run's outcome. A subscriber
/// first gets the state as it is now, in one frame, then each change; one that falls behind is dropped and its
/// EventSource reconnects for a fresh start (<see cref="Fanout{T}"/>).
/// </summary>
internal sealed class DashboardFeed : IOutputSink
{
    public const int Kept = 1000;
    private readonly Lock _lock = new();
    private readonly Fanout<string> _subscribers;
    private readonly Queue<DashboardLogLine> _recent = new();
    private readonly Dictionary<string, string> _lastLines = new(StringComparer.Ordinal);
    private string _hello = "";
    private string _nodes = "";
    private string? _run;
    private long _seq;

    public DashboardFeed() => _subscribers = new Fanout<string>(_lock, 8192);

    public void NodeLine(string nodeId, string line) => Add(nodeId, line, ConsoleOutputSink.ColourOf(nodeId));

    public void SupervisorLine(string line) => Add(ConsoleOutputSink.SupervisorName, line, "1");

    public string? LastLine(string nodeId)
    {
        lock (_lock)
        {
            return _lastLines.GetValueOrDefault(nodeId);
        }
    }

    public IReadOnlyList<DashboardLogLine> Recent(string? node)
    {
        lock (_lock)
        {
            return _recent.Where(l => node is null || l.Node == node).ToArray();
        }
    }

    public void Hello(DashboardHello hello) => Set(ref _hello, Frame("hello", hello, DashboardJson.Default.DashboardHello));

    public void Nodes(DashboardNodes nodes) => Set(ref _nodes, Frame("nodes", nodes, DashboardJson.Default.DashboardNodes));

    public void Run(DashboardRun run)
    {
        var frame = Frame("run", run, DashboardJson.Default.DashboardRun);
        lock (_lock)
        {
            _run = frame;
            _subscribers.Publish(frame);
        }
    }

    public Subscription<string> Subscribe()
    {
        lock (_lock)
        {
            var first = new StringBuilder(_hello).Append(_nodes);
            foreach (var line in _recent)
            {
                first.Append(Frame("log", line, DashboardJson.Default.DashboardLogLine));
            }

            first.Append(_run);
            return _subscribers.Subscribe(first.ToString());
        }
    }

    /// <summary>Ends every subscription: the run is over.</summary>
    public void Complete()
    {
        lock (_lock)
        {
            _subscribers.Complete();
        }
    }

    private void Set(ref string field, string frame)
    {
        lock (_lock)
        {
            field = frame;
            _subscribers.Publish(frame);
        }
    }

    private void Add(string node, string text, string colour)
    {
        lock (_lock)
        {
            var line = new DashboardLogLine(++_seq, node, LevelOf(text), colour, text);
            _recent.Enqueue(line);
            if (_recent.Count > Kept) _recent.Dequeue();
            _lastLines[node] = text;
            // A busy run writes many lines: with no page open, none is serialised.
            if (_subscribers.Count > 0)
            {
                _subscribers.Publish(Frame("log", line, DashboardJson.Default.DashboardLogLine));
            }
        }
    }

    /// <summary>A node's line is <c>HH:mm:ss.fff LVL message</c> (<see cref="Nodes.NodeLogFormatter"/>); other lines (programs, the supervisor) count as INF.</summary>
    internal static string LevelOf(string line)
    {
        var span = line.AsSpan();
        if (span.Length >= 16 && span[12] == ' ' && (span.Length == 16 || span[16] == ' '))
        {
            var level = span.Slice(13, 3);
            foreach (var known in (ReadOnlySpan<string>)["TRC", "DBG", "INF", "WRN", "ERR", "CRT"])
            {
                if (level.SequenceEqual(known)) return known;
            }
        }

        return "INF";
    }

    private static string Frame<T>(string kind, T item, JsonTypeInfo<T> json) =>
        EventStream.Frame(JsonSerializer.Serialize(item, json), kind);
}
