using Corral.Hosting.Control;

namespace Corral.Hosting.Supervision;

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

    public RunRecorder(RunFolder run, IOutputSink sink)
    {
        Run = run;
        _sink = sink;
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

    /// <summary>Writes <c>run.json</c>; a failure is reported, not thrown (the run goes on without its summary).</summary>
    public void WriteSummary(RunSummary summary)
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
