using Corral.Node.Control;

namespace Corral.Supervisor.Supervision;

/// <summary>
/// What a run leaves behind: its folder, the supervisor's own log, one log per node id (shared by every
/// incarnation of that id) and the <c>run.json</c> summary, written at start and again at the end.
/// </summary>
internal sealed class RunRecorder : IDisposable
{
    private readonly IOutputSink _sink;
    private readonly Lock _lock = new();
    private readonly Dictionary<string, NodeOutput> _outputs = new(StringComparer.Ordinal);
    private readonly NodeOutput _ownLog;
    private bool _closed;

    private readonly string _app;
    private readonly long _seed;
    private readonly DateTimeOffset _started;

    public RunRecorder(RunFolder run, IOutputSink sink, string app, long seed, DateTimeOffset started)
    {
        Run = run;
        _sink = sink;
        _app = app;
        _seed = seed;
        _started = started;
        _ownLog = new NodeOutput(ConsoleOutputSink.SupervisorName, run.LogOf(ConsoleOutputSink.SupervisorName), NullOutputSink.Instance);
    }

    public RunFolder Run { get; }

    /// <summary>A line of the supervisor's own: on the terminal and in <c>logs/corral.log</c>.</summary>
    public void Say(string line)
    {
        _sink.SupervisorLine(line);
        lock (_lock)
        {
            if (!_closed)
            {
                _ownLog.Line(line);
            }
        }
    }

    /// <summary>A line for <c>logs/corral.log</c> only, not the terminal: what only someone debugging the run needs.</summary>
    public void Note(string line)
    {
        lock (_lock)
        {
            if (!_closed)
            {
                _ownLog.Line(line);
            }
        }
    }

    /// <summary>The output of <paramref name="nodeId"/>, created on first use and kept for its later incarnations.</summary>
    public NodeOutput OutputOf(string nodeId)
    {
        lock (_lock)
        {
            if (!_outputs.TryGetValue(nodeId, out var output))
            {
                output = new NodeOutput(nodeId, Run.LogOf(nodeId), _sink);
                _outputs[nodeId] = output;
            }

            return output;
        }
    }

    /// <summary>Writes <c>run.json</c> at the start of the run.</summary>
    public void RecordStart(IReadOnlyList<NodeStatus> nodes) => Write(Summary(nodes));

    /// <summary>Writes <c>run.json</c> once the run is over: how it ended and every node it had.</summary>
    public void RecordEnd(SupervisorResult result, DateTimeOffset ended) => Write(Summary(result.Nodes) with
    {
        Ended = ended,
        ExitCode = result.ExitCode,
        End = result.End,
        Error = result.Error,
        Outcome = result.Outcome,
    });

    private RunSummary Summary(IReadOnlyList<NodeStatus> nodes) => new()
    {
        RunId = Run.RunId,
        App = _app,
        Seed = _seed,
        Started = _started,
        Nodes = nodes,
    };

    /// <summary>A failure to write is reported, not thrown: the run goes on without its summary.</summary>
    private void Write(RunSummary summary)
    {
        try
        {
            Run.WriteSummary(summary);
        }
        catch (IOException e)
        {
            Say($"could not write {Run.SummaryPath}: {e.Message}");
        }
    }

    public void Dispose()
    {
        lock (_lock)
        {
            if (_closed)
            {
                return;
            }

            _closed = true;
            foreach (var output in _outputs.Values)
            {
                output.Dispose();
            }

            _ownLog.Dispose();
        }
    }
}
