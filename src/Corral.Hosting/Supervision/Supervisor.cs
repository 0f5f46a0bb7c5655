using System.Net;
using Corral.Hosting.Apps;
using Corral.Hosting.Control;
using Corral.Hosting.Planning;
using Corral.Hosting.Topology;

namespace Corral.Hosting.Supervision;

/// <summary>
/// Runs one app's plan as local processes (<c>corral up</c>): allocates ports, starts nodes in dependency
/// order, multiplexes their output, restarts failures, serves the control API, applies topology reloads,
/// and stops everything in reverse dependency order when the run ends.
/// </summary>
public sealed class Supervisor : IControlPlane, IAsyncDisposable
{
    private readonly SupervisorOptions _options;
    private readonly ITopologySource _source;
    private readonly IOutputSink _sink;
    private readonly Lock _lock = new();
    private readonly Dictionary<string, SupervisedNode> _nodes = new(StringComparer.Ordinal);
    private readonly List<NodeStatus> _retired = [];
    private readonly Dictionary<string, NodeOutput> _outputs = new(StringComparer.Ordinal);
    private readonly TaskCompletionSource<(RunEnd End, RunOutcome? Outcome, string? Error)> _end =
        new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly HttpClient _probe = new(new SocketsHttpHandler
    {
        UseProxy = false,
        ConnectTimeout = TimeSpan.FromSeconds(1),
        PooledConnectionLifetime = TimeSpan.FromMinutes(1),
    }) { Timeout = Timeout.InfiniteTimeSpan };

    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private LoadedApp? _app;
    private AppPlan? _plan;
    private RunFolder? _run;
    private NodeOutput? _ownLog;
    private ControlServer? _control;
    private ConfigFeed? _config;
    private DateTimeOffset _started;
    private volatile bool _stopping;

    public Supervisor(SupervisorOptions options, ITopologySource source)
    {
        _options = options;
        _source = source;
        _sink = options.Sink ?? ConsoleOutputSink.ForConsole();
        Launcher = options.Launcher ?? NodeLauncher.ForCurrentProcess();
        StartWindow = new StartWindow(Math.Max(1, options.MaxConcurrentStarts));
    }

    /// <summary>The control API's address; set once <see cref="StartAsync"/> has returned.</summary>
    public Uri ControlUrl => _control?.Url ?? throw new InvalidOperationException("the supervisor has not started");

    /// <summary>The run's folder; set once <see cref="StartAsync"/> has returned.</summary>
    public RunFolder Run => _run ?? throw new InvalidOperationException("the supervisor has not started");

    public string Token => _options.Token;
    public NodeLauncher Launcher { get; }

    internal MembershipBoard Membership { get; } = new();
    MembershipBoard IControlPlane.Membership => Membership;
    ConfigFeed IControlPlane.Config => _config ?? throw new InvalidOperationException("the supervisor has not started");
    internal bool Stopping => _stopping;

    internal Task Changed
    {
        get
        {
            lock (_lock)
            {
                return _changed.Task;
            }
        }
    }

    /// <summary>
    /// Loads the topology, opens the run folder, checks every fixed port is free, starts the control API and
    /// prints the port map; no node starts yet. Throws <see cref="TopologyException"/> or <see cref="SupervisorException"/>.
    /// </summary>
    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        if (_control is not null)
        {
            return;
        }

        Validate(_options);
        if (ProcessSpawner.MissingTool() is { } tool)
        {
            throw new SupervisorException($"'{tool}' is not installed: Corral needs util-linux's setsid and setpriv to keep child processes from leaking");
        }

        _app = _source.Load();
        _plan = _app.Plan;
        _config = new ConfigFeed(_app.Config);
        var planned = Planned(_plan).ToArray();
        if (CheckPlan(_plan) is { } problem)
        {
            throw new SupervisorException(problem);
        }

        var ports = PortMap.Build(_plan, _options.PortSettings);
        CheckPortsFree(ports);
        _started = _options.Time.GetUtcNow();
        _run = _options.ResumeRunId is { } resume
            ? RunFolder.Resume(_options.DataDirectory, resume)
            : RunFolder.Create(_options.DataDirectory, _started);
        _ownLog = new NodeOutput(ConsoleOutputSink.SupervisorName, _run.LogOf(ConsoleOutputSink.SupervisorName), NullOutputSink.Instance);
        _control = await ControlServer.StartAsync(this, _options.Token, _options.BindAddress, _options.EffectiveControlPort, cancellationToken);
        lock (_lock)
        {
            foreach (var node in planned)
            {
                _nodes[node.NodeId] = CreateNode(node);
            }
        }

        Say($"run {_run.RunId} of {_plan.App} in {_run.Path}");
        PrintPortMap(ports);
        WriteSummary(null);
    }

    /// <summary>
    /// Runs the app until a node reports <c>finished</c>, a node exceeds its restart cap, every node has ended,
    /// or <paramref name="cancellationToken"/> is cancelled (Ctrl+C); then stops every node and returns how it went.
    /// </summary>
    public async Task<SupervisorResult> RunAsync(CancellationToken cancellationToken = default)
    {
        await StartAsync(cancellationToken);
        SupervisedNode[] initial;
        lock (_lock)
        {
            initial = _nodes.Values.ToArray();
        }

        foreach (var node in initial)
        {
            node.Start();
        }

        using var reloads = new CancellationTokenSource();
        var reloading = WatchTopologyAsync(reloads.Token);
        await using (cancellationToken.Register(() => _end.TrySetResult((RunEnd.Stopped, null, null))))
        {
            await _end.Task;
        }

        var (end, outcome, error) = await _end.Task;
        Say(end switch
        {
            RunEnd.Finished => $"finished ({(outcome!.Passed ? "passed" : "failed")}); stopping every node",
            RunEnd.Failed => $"run failed: {error}",
            RunEnd.Stopped => "stopping every node",
            _ => "every node has ended",
        });
        await reloads.CancelAsync();
        await StopAllAsync();
        await reloading;
        Membership.Complete();
        _config!.Complete();
        await _control!.DisposeAsync();

        var exitCode = end switch
        {
            RunEnd.Finished => outcome!.Passed ? 0 : 1,
            RunEnd.Stopped => SupervisorResult.InterruptedExitCode,
            RunEnd.AllExited => Nodes().All(n => n.LastExitCode == 0) ? 0 : 1,
            _ => 1,
        };
        var nodes = AllNodes();
        WriteSummary(new SupervisorResult(exitCode, end, outcome, error, _run!, nodes));
        CloseLogs();

        return new SupervisorResult(exitCode, end, outcome, error, _run!, nodes);
    }

    /// <summary>Every current node as the control API shows it, in plan order.</summary>
    public IReadOnlyList<NodeStatus> Nodes()
    {
        lock (_lock)
        {
            var order = _plan?.Roles.Select(r => r.Role).ToList() ?? [];
            return _nodes.Values.OrderBy(n => order.IndexOf(n.Role.Role)).ThenBy(n => n.Ordinal).Select(n => n.Status()).ToArray();
        }
    }

    public MembershipSnapshot MembershipSnapshot() => Membership.Snapshot();

    /// <summary>The run's outcome as a node would report it; the first report wins.</summary>
    public bool Finish(RunOutcome outcome) => _end.TrySetResult((RunEnd.Finished, outcome with { Summary = Json.OrNull(outcome.Summary) }, null));

    bool IControlPlane.ReportEndpoints(string nodeId, IReadOnlyDictionary<string, int> ports)
    {
        if (Find(nodeId) is not { } node)
        {
            return false;
        }

        node.ReportEndpoints(ports);
        return true;
    }

    bool IControlPlane.RestartNode(string nodeId)
    {
        if (Find(nodeId) is not { } node)
        {
            return false;
        }

        Say($"{nodeId}: restart requested through the control API");
        node.Restart();
        return true;
    }

    bool IControlPlane.StopNode(string nodeId)
    {
        if (Find(nodeId) is not { } node)
        {
            return false;
        }

        Say($"{nodeId}: stop requested through the control API");
        _ = node.DrainAsync();
        return true;
    }

    ScaleResult IControlPlane.Scale(string role, int count)
    {
        AppPlan next;
        lock (_lock)
        {
            var current = _plan!.Find(role);
            if (current is null)
            {
                return ScaleResult.UnknownRole;
            }

            if (!current.Scalable)
            {
                return ScaleResult.NotScalable;
            }

            next = _plan with { Roles = _plan.Roles.Select(r => r.Role == role ? r with { Count = count } : r).ToArray() };
        }

        Say($"scaling {role} to {count}");
        Apply(next);
        return ScaleResult.Accepted;
    }

    internal void Say(string line)
    {
        _sink.SupervisorLine(line);
        _ownLog?.Line(line);
    }

    internal void Fail(string error) => _end.TrySetResult((RunEnd.Failed, null, error));

    internal void NotifyChanged()
    {
        TaskCompletionSource changed;
        lock (_lock)
        {
            changed = _changed;
            _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);
        }

        changed.TrySetResult();
    }

    /// <summary>The first role among <paramref name="role"/>'s dependencies that has a node not yet ready, or null.</summary>
    internal string? UnreadyDependency(RolePlan role)
    {
        lock (_lock)
        {
            foreach (var dependency in role.DependsOn)
            {
                if (_nodes.Values.Any(n => n.Role.Role == dependency && n.State is not (NodeState.Ready or NodeState.Unhealthy)))
                {
                    return dependency;
                }
            }

            return null;
        }
    }

    /// <summary>Why <paramref name="role"/> can never start: a node of a dependency that has ended (exited, failed, stopped) for good; else null.</summary>
    internal string? EndedDependency(RolePlan role)
    {
        lock (_lock)
        {
            foreach (var dependency in role.DependsOn)
            {
                if (_nodes.Values.FirstOrDefault(n => n.Role.Role == dependency && n.State is NodeState.Exited or NodeState.Failed or NodeState.Stopped) is { } ended)
                {
                    return $"it depends on {dependency}, whose node {ended.NodeId} has {ended.State.ToString().ToLowerInvariant()} and will not become ready";
                }
            }

            return null;
        }
    }

    internal StartWindow StartWindow { get; }

    internal async Task<bool> ProbeAsync(Uri url, TimeSpan timeout)
    {
        using var cancel = new CancellationTokenSource(timeout, _options.Time);
        try
        {
            using var response = await _probe.GetAsync(url, HttpCompletionOption.ResponseHeadersRead, cancel.Token);
            return response.StatusCode == HttpStatusCode.OK;
        }
        catch (Exception e) when (e is HttpRequestException or OperationCanceledException or IOException)
        {
            return false;
        }
    }

    /// <summary>Ends the run when no node is left running on its own (every one drained, failed for good, or was stopped).</summary>
    internal void NodeEnded(SupervisedNode node)
    {
        NotifyChanged();
        if (_stopping)
        {
            return;
        }

        lock (_lock)
        {
            if (_nodes.Count == 0 || _nodes.Values.Any(n => n.State is not (NodeState.Exited or NodeState.Failed or NodeState.Stopped)))
            {
                return;
            }
        }

        _end.TrySetResult((RunEnd.AllExited, null, null));
    }

    private SupervisedNode? Find(string nodeId)
    {
        lock (_lock)
        {
            return _nodes.GetValueOrDefault(nodeId);
        }
    }

    private IReadOnlyList<NodeStatus> AllNodes()
    {
        lock (_lock)
        {
            return [.. Nodes(), .. _retired];
        }
    }

    private SupervisedNode CreateNode(PlannedNode planned)
    {
        if (!_outputs.TryGetValue(planned.NodeId, out var output))
        {
            output = new NodeOutput(planned.NodeId, _run!.LogOf(planned.NodeId), _sink);
            _outputs[planned.NodeId] = output;
        }

        return new SupervisedNode(this, _options, planned, output);
    }

    private static IEnumerable<PlannedNode> Planned(AppPlan plan) =>
        plan.Roles.SelectMany(role => Enumerable.Range(1, role.Count).Select(i => new PlannedNode(role, i)));

    private async Task WatchTopologyAsync(CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                await _source.WaitForChangeAsync(cancellationToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            LoadedApp next;
            try
            {
                next = _source.Load();
            }
            catch (TopologyException e)
            {
                Say($"reload rejected: {string.Join("; ", e.Errors)}");
                continue;
            }

            if (next.Plan.App != _plan!.App)
            {
                Say($"reload rejected: the app changed from {_plan.App} to {next.Plan.App}; stop and start corral again");
                continue;
            }

            _app = next;
            Apply(next.Plan);
            if (_config!.Publish(next.Config))
            {
                Say($"config version {_config.Current.Version} published");
            }
        }
    }

    /// <summary>Moves the running plan to <paramref name="next"/>, touching only the nodes the difference names.</summary>
    private void Apply(AppPlan next)
    {
        if (_stopping)
        {
            return;
        }

        if (CheckPlan(next) is { } problem)
        {
            Say($"plan rejected, the running plan stays: {problem}");
            return;
        }

        var toStart = new List<SupervisedNode>();
        PlanDiff diff;
        lock (_lock)
        {
            diff = PlanDiff.Compute(_plan!, next);
            _plan = next;
            var drained = diff.Drain.ToHashSet();
            var restarted = diff.Restart.Select(r => r.NodeId).ToHashSet();
            foreach (var node in _nodes.Values)
            {
                if (!drained.Contains(node.NodeId) && !restarted.Contains(node.NodeId) && next.Find(node.Role.Role) is { } role)
                {
                    node.Update(role);
                }
            }

            var leaving = new Dictionary<string, Task>(StringComparer.Ordinal);
            foreach (var id in diff.Drain)
            {
                if (_nodes.Remove(id, out var node))
                {
                    leaving[id] = RetireAsync(node);
                }
            }

            foreach (var planned in diff.Start)
            {
                var node = CreateNode(planned);
                _nodes[planned.NodeId] = node;
                node.Start(leaving.GetValueOrDefault(planned.NodeId));
                toStart.Add(node);
            }
        }

        foreach (var planned in diff.Restart)
        {
            Find(planned.NodeId)?.Restart(planned.Role);
        }

        if (!diff.IsEmpty)
        {
            Say($"plan changed: {diff.Start.Count} to start, {diff.Drain.Count} to drain, {diff.Restart.Count} to restart" +
                (diff.Start.Count > 0 ? $" (new: {string.Join(", ", diff.Start.Select(s => s.NodeId))})" : ""));
        }

        NotifyChanged();
    }

    private async Task RetireAsync(SupervisedNode node)
    {
        await node.DrainAsync();
        lock (_lock)
        {
            _retired.RemoveAll(n => n.NodeId == node.NodeId);
            _retired.Add(node.Status());
        }
    }

    /// <summary>
    /// Every node leaves the membership at once, then roles get SIGTERM tier by tier, dependants first, so a
    /// coordinator outlives the workers that report to it. Each tier has the grace period before SIGKILL.
    /// </summary>
    private async Task StopAllAsync()
    {
        _stopping = true;
        SupervisedNode[] nodes;
        AppPlan plan;
        lock (_lock)
        {
            nodes = _nodes.Values.ToArray();
            plan = _plan!;
        }

        foreach (var node in nodes)
        {
            node.MarkDraining();
        }

        foreach (var tier in nodes.GroupBy(n => Depth(plan, n.Role.Role)).OrderByDescending(g => g.Key))
        {
            await Task.WhenAll(tier.Select(n => n.DrainAsync()));
        }

        Task[] retiring;
        lock (_lock)
        {
            retiring = _nodes.Values.Select(n => n.Loop).ToArray();
        }

        await Task.WhenAll(retiring);
    }

    /// <summary>How many dependency levels sit under a role (0: depends on nothing); cycles count once.</summary>
    internal static int Depth(AppPlan plan, string role, HashSet<string>? visiting = null)
    {
        visiting ??= [];
        if (!visiting.Add(role) || plan.Find(role) is not { } found || found.DependsOn.Count == 0)
        {
            return 0;
        }

        var depth = 1 + found.DependsOn.Max(d => Depth(plan, d, visiting));
        visiting.Remove(role);
        return depth;
    }

    private static void Validate(SupervisorOptions options)
    {
        var problems = new List<string>();
        if (string.IsNullOrWhiteSpace(options.DataDirectory)) problems.Add("the data folder is empty");
        if (string.IsNullOrEmpty(options.Token)) problems.Add("the cluster token is empty");
        if (options.PortOffset is < -30000 or > 30000) problems.Add($"--port-offset {options.PortOffset} is outside -30000..30000");
        if (options.GracePeriod <= TimeSpan.Zero) problems.Add("the grace period must be positive");
        if (options.ReadyTimeout <= TimeSpan.Zero) problems.Add("the readiness timeout must be positive");
        if (options.LivenessInterval <= TimeSpan.Zero || options.LivenessTimeout <= TimeSpan.Zero) problems.Add("liveness interval and timeout must be positive");
        if (options.LivenessFailures < 1) problems.Add("liveness failures must be at least 1");
        if (options.MaxConcurrentStarts < 1) problems.Add("at least one node must be allowed to start at a time");
        if (!IPAddress.TryParse(options.BindAddress, out _)) problems.Add($"'{options.BindAddress}' is not an IP address to bind");
        if (problems.Count > 0)
        {
            throw new SupervisorException("invalid supervisor options: " + string.Join("; ", problems));
        }
    }

    /// <summary>What stops a plan from running (its port map's problems, a program that is not installed), or null.</summary>
    private string? CheckPlan(AppPlan plan)
    {
        var problems = PortMap.Build(plan, _options.PortSettings).Errors.ToList();
        problems.AddRange(plan.Roles.Where(r => r.Count > 0 && r.Program is { } p && p.Resolve() is null).Select(r => r.Program!.MissingMessage(r.Role)));
        return problems.Count == 0 ? null : string.Join("; ", problems);
    }

    /// <summary>Every fixed port of the map can be listened on now (with <c>--ports dynamic</c> there is none).</summary>
    private void CheckPortsFree(PortMap map)
    {
        var owned = new List<(int Port, string Owner)>();
        if (map.ControlPort is > 0 and var control)
        {
            owned.Add((control, "the control API"));
        }

        owned.AddRange(map.Nodes.SelectMany(n => n.Ports.Where(p => p.Value > 0).Select(p => (p.Value, $"node {n.NodeId} ({p.Key})"))));
        foreach (var (port, owner) in owned)
        {
            if (!LoopbackPorts.IsFree(_options.BindAddress, port, out var error))
            {
                throw new SupervisorException(
                    $"port {port} for {owner} is not free on {_options.BindAddress} ({error}); stop what uses it, shift every port with --port-offset N, or use --ports dynamic");
            }
        }
    }

    private void PrintPortMap(PortMap map)
    {
        var rows = new List<string[]> { new[] { "node", "role", "ports" } };
        rows.Add(["control API", "supervisor", ControlUrl.ToString().TrimEnd('/')]);
        rows.AddRange(map.Rows().Select(r => new[] { r.Node, r.Role, r.Ports }));
        var widths = Enumerable.Range(0, 3).Select(c => rows.Max(r => r[c].Length)).ToArray();
        foreach (var row in rows)
        {
            Say($"{row[0].PadRight(widths[0])}  {row[1].PadRight(widths[1])}  {row[2]}");
        }
    }

    private void WriteSummary(SupervisorResult? result)
    {
        try
        {
            _run!.WriteSummary(new RunSummary
            {
                RunId = _run.RunId,
                App = _plan!.App,
                Started = _started,
                Ended = result is null ? null : _options.Time.GetUtcNow(),
                ExitCode = result?.ExitCode,
                End = result?.End,
                Error = result?.Error,
                Outcome = result?.Outcome,
                Nodes = result?.Nodes ?? Nodes(),
            });
        }
        catch (IOException e)
        {
            Say($"could not write {_run!.SummaryPath}: {e.Message}");
        }
    }

    private void CloseLogs()
    {
        lock (_lock)
        {
            foreach (var output in _outputs.Values)
            {
                output.Dispose();
            }

            _ownLog?.Dispose();
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (!_end.Task.IsCompleted && _control is not null)
        {
            // Disposed without a finished run: still take every child down.
            _end.TrySetResult((RunEnd.Stopped, null, null));
            await StopAllAsync();
            await _control.DisposeAsync();
            CloseLogs();
        }

        _probe.Dispose();
    }
}
