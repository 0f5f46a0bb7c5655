using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json;
using System.Text.RegularExpressions;
using Corral.Node.Apps;
using Corral.Node.Control;
using Corral.Node.Nodes;
using Corral.Node.Planning;
using Corral.Supervisor.Supervision;
using Corral.Node.Topology;

namespace Corral.Supervisor.Tests.Supervision;

/// <summary>The built TestNode executable next to this test assembly's output.</summary>
internal static class TestNodeBinary
{
    public static string Path { get; } = Locate();

    private static string Locate()
    {
        // .../test/Corral.Supervisor.Tests/bin/<Configuration>/net10.0/
        var output = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd('/'));
        var configuration = output.Parent!.Name;
        var test = output.Parent!.Parent!.Parent!.Parent!.FullName;
        var path = System.IO.Path.Combine(test, "Corral.TestNode", "bin", configuration, output.Name, "Corral.TestNode");
        return File.Exists(path) ? path : throw new FileNotFoundException($"build test/Corral.TestNode first: {path} is missing");
    }

    public static NodeLauncher Launcher => new(Path, []);
}

/// <summary>An output sink that keeps every line with the moment it arrived.</summary>
internal sealed class CapturingSink : IOutputSink
{
    private readonly ConcurrentQueue<(TimeSpan At, string Name, string Line)> _lines = new();
    private readonly Stopwatch _clock = Stopwatch.StartNew();

    public IReadOnlyList<(TimeSpan At, string Name, string Line)> Lines => _lines.ToArray();

    public void NodeLine(string nodeId, string line) => _lines.Enqueue((_clock.Elapsed, nodeId, line));
    public void SupervisorLine(string line) => _lines.Enqueue((_clock.Elapsed, "corral", line));

    public IEnumerable<(TimeSpan At, string Line)> Of(string name) => Lines.Where(l => l.Name == name).Select(l => (l.At, l.Line));

    public TimeSpan At(string name, string prefix) =>
        Lines.First(l => l.Name == name && l.Line.StartsWith(prefix, StringComparison.Ordinal)).At;

    public bool Has(string name, string text) => Lines.Any(l => l.Name == name && l.Line.Contains(text, StringComparison.Ordinal));

    public int Count(string name, string text) => Lines.Count(l => l.Name == name && l.Line.Contains(text, StringComparison.Ordinal));

    public string Dump() => string.Join("\n", Lines.Select(l => $"{l.At.TotalSeconds,7:0.000} {l.Name} | {l.Line}"));

    /// <summary>Pids a node printed as <c>... pid N</c> (TestNode prints its own and its grandchild's).</summary>
    public IReadOnlyList<int> PrintedPids(string prefix) =>
        Lines.Select(l => Regex.Match(l.Line, "^" + Regex.Escape(prefix) + " ([0-9]+)")).Where(m => m.Success)
            .Select(m => int.Parse(m.Groups[1].Value)).ToArray();
}

/// <summary>An app with no behaviour: the supervisor only reads the plan.</summary>
internal sealed class StubApp : IAppModule
{
    public static readonly StubApp Instance = new();
    public string Name => "test";
    public IReadOnlyList<string> Roles => ["test.a", "test.b"];
    public bool RecognisesOriginal(TopologyNode root) => false;
    public LoadedApp Load(TopologyDocument document, TopologyDiagnostics diagnostics) => throw new NotSupportedException();
    public Task<int> RunNodeAsync(string role, NodeContext context, string[] args, CancellationToken cancellationToken) =>
        throw new NotSupportedException();
    public CheckReport Check(string runFolder) => new(true, [], []);
    public IEnumerable<string> DescribeOutcome(JsonElement summary, string runFolder) => [];

    public static LoadedApp Loaded(params RolePlan[] roles) => Loaded("{}", roles);

    public static LoadedApp Loaded(string config, params RolePlan[] roles) =>
        new(Instance, new AppPlan { App = "test", Roles = roles }, JsonDocument.Parse(config).RootElement.Clone());

    public static RolePlan Role(string name, int count, params string[] args) => new()
    {
        Role = "test." + name,
        NodePrefix = name,
        Count = count,
        Ports = [new PlannedPort("http", 20000, 1)],
        Args = args,
        InitialBackoff = TimeSpan.FromMilliseconds(100),
    };
}

/// <summary>One supervisor of TestNode processes on dynamic ports in a temporary data folder, stopped on dispose.</summary>
internal sealed class Harness : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly TempFolder _data = new();

    public Harness(LoadedApp app, Func<SupervisorOptions, SupervisorOptions>? configure = null)
    {
        Source = new InMemoryTopologySource(app);
        var options = new SupervisorOptions
        {
            DataDirectory = _data.Path,
            DynamicPorts = true,
            Launcher = TestNodeBinary.Launcher,
            Sink = Sink,
            GracePeriod = TimeSpan.FromSeconds(3),
            LivenessInterval = TimeSpan.FromMilliseconds(500),
        };
        Supervisor = new RunSupervisor(configure?.Invoke(options) ?? options, Source);
    }

    public CapturingSink Sink { get; } = new();
    public string DataDirectory => _data.Path;
    public InMemoryTopologySource Source { get; }
    public RunSupervisor Supervisor { get; }
    public Task<SupervisorResult> Result { get; private set; } = null!;
    public ControlClient Client => new(Supervisor.ControlUrl, Supervisor.OperatorCredential);

    /// <summary>A credential of this run for <paramref name="nodeId"/> in <paramref name="role"/>, with the outcome scope when asked.</summary>
    public string NodeCredential(string nodeId, string role = "test.worker", bool reportsOutcome = false) =>
        Supervisor.Credentials.Issuer.IssueNode(nodeId, 1, role, reportsOutcome);

    /// <summary>A client with the credential of a node whose role may report the run's outcome.</summary>
    public ControlClient OutcomeClient => new(Supervisor.ControlUrl, NodeCredential("worker-1", reportsOutcome: true));

    public async Task<Harness> StartAsync()
    {
        await Supervisor.StartAsync();
        Result = Task.Run(() => Supervisor.RunAsync(_stop.Token));
        return this;
    }

    /// <summary>The current incarnation of a node id (a drained predecessor may still be listed while it exits).</summary>
    public NodeStatus Node(string nodeId) => Supervisor.Nodes().Where(n => n.NodeId == nodeId).MaxBy(n => n.Instance)
        ?? throw new InvalidOperationException($"no node {nodeId}; nodes: {string.Join(", ", Supervisor.Nodes().Select(n => n.NodeId))}");

    public Task WaitReadyAsync(int seconds = 45, params string[] nodeIds) =>
        Eventually.TrueAsync(() => nodeIds.All(id => Supervisor.Nodes().Any(n => n.NodeId == id && n.State == NodeState.Ready)),
            TimeSpan.FromSeconds(seconds), () => $"nodes {string.Join(", ", nodeIds)} ready; states: " +
                string.Join(", ", Supervisor.Nodes().Select(n => $"{n.NodeId}={n.State}")) + "\n" + Sink.Dump());

    public Task WaitLineAsync(string name, string text, int seconds = 45) =>
        Eventually.TrueAsync(() => Sink.Has(name, text), TimeSpan.FromSeconds(seconds), () => $"'{name} | ...{text}...'\n{Sink.Dump()}");

    public async Task<SupervisorResult> StopAsync()
    {
        await _stop.CancelAsync();
        return await Result.WaitAsync(TimeSpan.FromSeconds(30));
    }

    public async ValueTask DisposeAsync()
    {
        if (Result is not null && !Result.IsCompleted)
        {
            await StopAsync();
        }

        await Supervisor.DisposeAsync();
        _data.Dispose();
    }
}
