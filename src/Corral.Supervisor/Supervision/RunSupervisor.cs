using System.Net;
using System.Globalization;
using System.Text.Json;
using Corral.Node.Apps;
using Corral.Node.Control;
using Corral.Node.Dashboard;
using Corral.Node.Http;
using Corral.Node.Nodes;
using Corral.Node.Planning;
using Corral.Node.Security;
using Corral.Node.Topology;
using Corral.Supervisor.Control;
using Corral.Supervisor.Dashboard;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;

namespace Corral.Supervisor.Supervision;

/// <summary>
/// Runs one app's plan as local processes (<c>corral up</c>): the run's lifecycle. It checks the ports, opens the
/// run folder, serves the control API, starts the plan's nodes, applies topology reloads, and stops everything in
/// reverse dependency order when the run ends. The node table is the <see cref="Reconciler"/>'s; what the run leaves
/// behind is the <see cref="RunRecorder"/>'s; options are checked by <see cref="SupervisorOptions.Validate"/>, ports
/// by <see cref="PortPreCheck"/>, reloads by the <see cref="TopologyWatcher"/>.
/// </summary>
public sealed class RunSupervisor : IAsyncDisposable, ISupervisedNodeHost
{
    private SupervisorOptions _options;
    private readonly ITopologySource _source;
    private readonly IOutputSink _sink;

    /// <summary>The terminal alone, for what must not reach <c>logs/corral.log</c> or the dashboard (a one-time link).</summary>
    private readonly IOutputSink _terminal;
    private readonly Reconciler _reconciler;
    private readonly TaskCompletionSource<(RunEnd End, RunOutcome? Outcome, string? Error)> _end =
        new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly NodeProber _prober;
    private readonly StartWindow _startWindow;

    private RunRecorder? _recorder;
    private ControlServer? _control;
    private ConfigFeed? _config;
    private readonly DashboardFeed? _feed;
    private DashboardServer? _dashboard;
    private IAppModule? _module;
    private NodeSupervisionContext? _nodeContext;
    private NodeCredentials? _credentials;
    private DateTimeOffset _started;

    /// <summary>The run's cgroup, every node process in one of its own inside it; null where the kernel allows none.</summary>
    private Cgroup? _cgroup;
    private DockerRunNetwork? _docker;
    private volatile bool _stopping;

    public RunSupervisor(SupervisorOptions options, ITopologySource source)
    {
        _options = options;
        _source = source;
        _sink = options.Sink ?? ConsoleOutputSink.ForConsole();
        _terminal = _sink;
        if (options.DashboardPort is not null)
        {
            _feed = new DashboardFeed();
            _sink = new TeeOutputSink(_sink, _feed);
        }

        Launcher = options.Launcher ?? NodeLauncher.ForCurrentProcess();
        _startWindow = new StartWindow(Math.Max(1, options.MaxConcurrentStarts));
        _prober = new NodeProber(options.Time);
        _reconciler = new Reconciler((planned, instance) =>
            new SupervisedNode(this, _nodeContext!, planned, _recorder!.OutputOf(planned.NodeId)) { Instance = instance });
    }

    /// <summary>The control API's address; set once <see cref="StartAsync"/> has returned.</summary>
    public Uri ControlUrl => _control?.Url ?? throw new InvalidOperationException("the supervisor has not started");

    /// <summary>The run's folder; set once <see cref="StartAsync"/> has returned.</summary>
    public RunFolder Run => _recorder?.Run ?? throw new InvalidOperationException("the supervisor has not started");

    /// <summary>The operator's credential (the command line and the dashboard); set once <see cref="StartAsync"/> has returned.</summary>
    public string OperatorCredential => _credentials?.Operator ?? throw new InvalidOperationException("the supervisor has not started");

    /// <summary>The run's credentials: its signer and the roles that may report the outcome; set once <see cref="StartAsync"/> has returned.</summary>
    internal NodeCredentials Credentials => _credentials ?? throw new InvalidOperationException("the supervisor has not started");

    /// <summary>The dashboard's port once started, or null when the run serves none.</summary>
    public int? DashboardPort => _dashboard?.Port;

    /// <summary>A fresh one-time link to the dashboard, or null when the run serves none.</summary>
    public string? NewDashboardLink() => _dashboard?.NewLink();

    /// <summary>The run's seed: the one given, or on <c>--resume</c> without one, the one the run started with.</summary>
    public long Seed => _options.Seed;

    public NodeLauncher Launcher { get; }

    /// <summary>Every endpoint the control API maps (tests check that each one requires the token).</summary>
    internal IReadOnlyList<Endpoint> ControlEndpoints =>
        _control?.Endpoints ?? throw new InvalidOperationException("the supervisor has not started");

    internal MembershipBoard Membership { get; } = new();
    internal bool Stopping => _stopping;

    bool ISupervisedNodeHost.Stopping => _stopping;
    Task ISupervisedNodeHost.Changed => _reconciler.Changed;

    /// <summary>
    /// Loads the topology, opens the run folder, checks every fixed port is free, starts the control API and
    /// prints the seed and the port map; no node starts yet. Throws <see cref="TopologyException"/> or <see cref="SupervisorException"/>.
    /// </summary>
    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        if (_control is not null)
        {
            return;
        }

        if (_options.Validate() is { Count: > 0 } invalid)
        {
            throw new SupervisorException("invalid supervisor options: " + string.Join("; ", invalid));
        }

        // The external engine starts no process: its supervisor runs in an image with no util-linux.
        if (_options.Engine != SupervisorEngine.External && ProcessSpawner.MissingTool() is { } tool)
        {
            throw new SupervisorException($"'{tool}' is not installed: Corral needs util-linux's setsid and setpriv to keep child processes from leaking");
        }

        var app = _source.Load();
        _module = app.Module;
        _config = new ConfigFeed(app.Config);
        // The run folder is made later; its path has the same length whatever the run's id is.
        var runPath = Path.Combine(RunFolder.RunsPath(_options.DataDirectory), _options.SigningKey?.RunId ?? _options.ResumeRunId ?? RunFolder.NewRunId(_options.Time.GetUtcNow()));
        if (CheckPlan(app.Plan, runPath) is { } problem)
        {
            throw new SupervisorException(problem);
        }

        var ports = PortMap.Build(app.Plan, _options.PortSettings);
        if (PortPreCheck.FirstTaken(ports, _options.DashboardPort, _options.ListenAddress,
                _options.Engine == SupervisorEngine.Process ? _options.BindAddress : null) is { } taken)
        {
            throw new SupervisorException(taken);
        }

        try
        {
            // Once per run, before any node: nothing is started (and no run folder made) when it cannot be done.
            await app.Module.PrepareAsync(app.Config, _sink.SupervisorLine, cancellationToken);
        }
        catch (AppPrepareException e)
        {
            throw new SupervisorException(e.Message);
        }

        _started = _options.Time.GetUtcNow();
        RunFolder run;
        if (_options.SigningKey is { } signing)
        {
            run = RunFolder.CreateOrReopen(_options.DataDirectory, signing.RunId);
        }
        else if (_options.ResumeRunId is { } resume)
        {
            run = RunFolder.Resume(_options.DataDirectory, resume);
            if (!_options.ExplicitSeed && run.StoredSeed() is { } stored)
            {
                _options = _options with { Seed = stored };
            }
        }
        else
        {
            run = RunFolder.Create(_options.DataDirectory, _started);
        }

        _recorder = new RunRecorder(run, _sink, app.Plan.App, _options.Seed, _started);
        // A rendered run's nodes carry credentials signed with the rendered key, for the rendered run id.
        var issuer = _options.SigningKey is { } key ? CredentialIssuer.FromKey(key) : CredentialIssuer.Create(run.RunId);
        _credentials = new NodeCredentials(issuer, run, app.Module.OutcomeRoles);
        string? nodeControlHost = null;
        if (_options.Engine == SupervisorEngine.Docker)
        {
            foreach (var line in await DockerRunNetwork.PruneDeadRunsAsync(cancellationToken))
            {
                Say(line);
            }

            _docker = await DockerRunNetwork.CreateAsync(run.RunId, _options.DockerImage, cancellationToken);
            Say($"docker network {_docker.Name}: nodes reach the control API at {_docker.Gateway}");
            nodeControlHost = _docker.Gateway;
            // The nodes reach the control API at the network's gateway: listen there too, and answer to that name.
            _options = _options with
            {
                ListenAddress = IPAddress.IsLoopback(IPAddress.Parse(_options.ListenAddress)) ? "0.0.0.0" : _options.ListenAddress,
                HostNames = [.. _options.HostNames, _docker.Gateway],
            };
        }

        _control = await ControlServer.StartAsync(new SupervisorControlPlane(this, _reconciler, _config, _credentials), _credentials.Issuer.Verifier,
            _options.ListenAddress, _options.EffectiveControlPort, cancellationToken,
            new ControlServerOptions { Time = _options.Time, Heartbeat = _options.FeedHeartbeat, MapExtra = MapDashboardCode, HostNames = _options.HostNames });
        // Dead runs' leftovers first: a run whose supervisor was SIGKILLed may have left a daemon in its cgroup.
        foreach (var line in await RunRetention.SweepDeadRunsAsync())
        {
            Say(line);
        }

        _cgroup = Cgroup.CreateForRun(run.RunId, out var noCgroup);
        if (noCgroup is not null)
        {
            _recorder.Note($"no cgroup for this run's nodes ({noCgroup}); each node's session is swept when it ends instead");
        }

        var controlUrl = nodeControlHost is null ? ControlUrl.ToString().TrimEnd('/') : $"http://{nodeControlHost}:{ControlUrl.Port}";
        _nodeContext = new NodeSupervisionContext(_options, run, controlUrl, Launcher, _startWindow, Membership, _prober, _credentials,
            _cgroup) { Docker = _docker };
        _reconciler.Load(app.Plan);
        if (_feed is not null)
        {
            _dashboard = await DashboardServer.StartAsync(new SupervisorDashboardRun(this, _reconciler, app.Plan.App), _feed,
                (app.Module as IDashboardPanel)?.Panel, _options.ListenAddress, _options.DashboardPort!.Value, _options.Time, cancellationToken,
                _options.HostNames);
        }

        WriteControlAccess(run);

        Say($"run {run.RunId} of {app.Plan.App} in {run.Path}");
        PruneOldRuns();
        Say($"seed {_options.Seed.ToString(CultureInfo.InvariantCulture)}");
        PrintPortMap(ports);
        if (_dashboard is not null)
        {
            // The link logs its reader in: it goes to the terminal only, never into the run folder's logs.
            _terminal.SupervisorLine($"Dashboard: {_dashboard.NewLink()}");
        }

        _recorder.RecordStart(Nodes());
    }

    /// <summary>
    /// Runs the app until a node reports <c>finished</c>, a node exceeds its restart cap, every node has ended,
    /// or <paramref name="cancellationToken"/> is cancelled (Ctrl+C); then stops every node and returns how it went.
    /// </summary>
    public async Task<SupervisorResult> RunAsync(CancellationToken cancellationToken = default)
    {
        await StartAsync(cancellationToken);
        foreach (var node in _reconciler.Current())
        {
            node.Start();
        }

        using var reloads = new CancellationTokenSource();
        var reloading = new TopologyWatcher(_source, () => _reconciler.Plan, _config!, Apply, Say).WatchAsync(reloads.Token);
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
        if (end != RunEnd.Finished)
        {
            _dashboard?.Ended(new DashboardRun(end.ToString().ToLowerInvariant(), null, error is null ? [] : [error]));
        }

        await reloads.CancelAsync();
        await StopAllAsync();
        await RemoveCgroupAsync();
        await reloading;
        Membership.Complete();
        _config!.Complete();
        Run.DeleteControlAccess();
        _credentials?.DeleteAll();
        if (_dashboard is not null)
        {
            await _dashboard.DisposeAsync();
        }

        await _control!.DisposeAsync();

        var exitCode = end switch
        {
            RunEnd.Finished => outcome!.Passed ? 0 : 1,
            RunEnd.Stopped => SupervisorResult.InterruptedExitCode,
            RunEnd.AllExited => Nodes().All(n => n.LastExitCode == 0) ? 0 : 1,
            _ => 1,
        };
        var result = new SupervisorResult(exitCode, end, outcome, error, Run, _reconciler.AllNodes());
        _recorder!.RecordEnd(result, _options.Time.GetUtcNow());
        _recorder.Dispose();
        return result;
    }

    /// <summary>Every tracked node as the control API shows it (draining ones until their process has exited), in plan order.</summary>
    public IReadOnlyList<NodeStatus> Nodes() => _reconciler.Nodes();

    public MembershipSnapshot MembershipSnapshot() => Membership.Snapshot();

    /// <summary>The run's outcome as a node would report it; the first report wins.</summary>
    public bool Finish(RunOutcome outcome)
    {
        outcome = outcome with { Summary = JsonValues.OrNull(outcome.Summary) };
        if (!_end.TrySetResult((RunEnd.Finished, outcome, null)))
        {
            return false;
        }

        _dashboard?.Ended(new DashboardRun("finished", outcome.Passed, DescribeOutcome(outcome)));
        return true;
    }

    /// <summary>The app's own lines about its outcome (a winner, a verdict) for the dashboard; an app that cannot describe it gets none.</summary>
    private IReadOnlyList<string> DescribeOutcome(RunOutcome outcome)
    {
        try
        {
            return _module?.DescribeOutcome(outcome.Summary, Run.Path).ToArray() ?? [];
        }
        catch (Exception e) when (e is InvalidOperationException or JsonException or ArgumentException)
        {
            return [];
        }
    }

    /// <summary>The control API's route for <c>corral dashboard &lt;run-id&gt;</c>: a fresh one-time link.</summary>
    private void MapDashboardCode(IEndpointRouteBuilder routes) =>
        routes.MapPost(ControlRoutes.DashboardCode, Results<Ok<DashboardLink>, ProblemHttpResult> () => NewDashboardLink() is { } link
            ? TypedResults.Ok(new DashboardLink(link))
            : JsonBody.Problem(StatusCodes.Status404NotFound, "No dashboard", "this run serves no dashboard (it was started with --no-dashboard)"))
            .RequireAuthorization(ControlPolicies.Operator);

    /// <summary>Lets <c>corral dashboard &lt;run-id&gt;</c> reach this run; a failure to write only loses that command.</summary>
    private void WriteControlAccess(RunFolder run)
    {
        try
        {
            run.WriteControlAccess(new ControlAccess(ControlUrl.ToString(), OperatorCredential));
        }
        catch (IOException e)
        {
            Say($"could not write {run.ControlPath} ('corral dashboard' will not find this run): {e.Message}");
        }
    }

    /// <summary>
    /// Applies the retention (<c>--keep-runs</c>) once this run's <c>control.json</c> protects it (and a resumed run
    /// with it); a run folder that cannot be removed is reported and the run goes on.
    /// </summary>
    private void PruneOldRuns()
    {
        if (_options.KeepRuns == 0)
        {
            return;
        }

        var pruned = RunRetention.Prune(_options.DataDirectory, _options.KeepRuns);
        if (pruned.Removed.Count > 0)
        {
            Say($"removed {pruned.Removed.Count} old run{(pruned.Removed.Count == 1 ? "" : "s")} ({Sizes.Describe(pruned.Bytes)}), keeping the newest {_options.KeepRuns} (--keep-runs)");
        }

        foreach (var failure in pruned.Failures)
        {
            Say(failure);
        }
    }

    internal void Say(string line)
    {
        if (_recorder is { } recorder)
        {
            recorder.Say(line);
        }
        else
        {
            _sink.SupervisorLine(line);
        }
    }

    void ISupervisedNodeHost.NotifyChanged() => _reconciler.NotifyChanged();

    string? ISupervisedNodeHost.UnreadyDependency(RolePlan role) => _reconciler.UnreadyDependency(role);

    string? ISupervisedNodeHost.EndedDependency(RolePlan role) => _reconciler.EndedDependency(role);

    void ISupervisedNodeHost.Say(string line) => Say(line);

    void ISupervisedNodeHost.Note(string line) => _recorder?.Note(line);

    void ISupervisedNodeHost.Fail(string error) => _end.TrySetResult((RunEnd.Failed, null, error));

    /// <summary>Ends the run when no planned node is left running on its own (every one drained, failed for good, or was stopped).</summary>
    void ISupervisedNodeHost.NodeEnded(SupervisedNode node)
    {
        _reconciler.NotifyChanged();
        if (!_stopping && _reconciler.IsCurrent(node) && _reconciler.AllEnded())
        {
            _end.TrySetResult((RunEnd.AllExited, null, null));
        }
    }

    /// <summary>
    /// Moves the running plan to <paramref name="next"/> (a reload or a scale), touching only the difference; a plan
    /// that cannot run (its port map is invalid, a program is missing) changes nothing and its problem is returned.
    /// </summary>
    internal string? Apply(AppPlan next)
    {
        if (_stopping)
        {
            return null;
        }

        if (CheckPlan(next, Run.Path) is { } problem)
        {
            Say($"plan rejected, the running plan stays: {problem}");
            return problem;
        }

        var diff = _reconciler.Apply(next);
        if (!diff.IsEmpty)
        {
            Say($"plan changed: {diff.Start.Count} to start, {diff.Drain.Count} to drain, {diff.Restart.Count} to restart" +
                (diff.Start.Count > 0 ? $" (new: {string.Join(", ", diff.Start.Select(s => s.NodeId))})" : ""));
        }

        return null;
    }

    /// <summary>Stops every node, draining ones included, and returns once every process has exited.</summary>
    private Task StopAllAsync()
    {
        _stopping = true;
        return _reconciler.StopAllAsync();
    }

    /// <summary>Once every node has ended: kills what may be left in the run's cgroup and removes it.</summary>
    private async Task RemoveCgroupAsync()
    {
        if (Interlocked.Exchange(ref _cgroup, null) is { } cgroup && !await cgroup.KillAndRemoveAsync())
        {
            Say($"could not empty the run's cgroup {cgroup.Path}; the next 'corral up' or 'corral prune' tries again");
        }

        if (Interlocked.Exchange(ref _docker, null) is { } docker)
        {
            var removed = await docker.RemoveAsync();
            Say($"removed from Docker: {(removed.Count == 0 ? "nothing" : string.Join(", ", removed))}");
        }
    }

    /// <summary>
    /// What stops a plan from running in the run folder <paramref name="runPath"/> (its port map's problems, a program
    /// that is not installed, a program's unix socket whose path is too long), or null.
    /// </summary>
    private string? CheckPlan(AppPlan plan, string runPath)
    {
        var problems = PortMap.Build(plan, _options.PortSettings).Errors.ToList();
        problems.AddRange(plan.Roles.Where(r => r.Count > 0 && r.Program is { } p && p.Resolve() is null).Select(r => r.Program!.MissingMessage(r.Role)));
        if (problems.Count == 0)
        {
            problems.AddRange(SocketProblems(plan, runPath));
        }

        return problems.Count == 0 ? null : string.Join("; ", problems);
    }

    /// <summary>
    /// Program sockets that could not be bound: each node's declared and probed sockets, their templates filled in as
    /// its launch will fill them.
    /// </summary>
    private IEnumerable<string> SocketProblems(AppPlan plan, string runPath)
    {
        foreach (var role in plan.Roles)
        {
            if (role.Program is not { } program)
            {
                continue;
            }

            var sockets = program.Sockets.Append(role.EffectiveProbe.SocketPath).OfType<string>().Distinct().ToArray();
            var ports = role.Ports.ToDictionary(p => p.Name, p => p.Base);
            foreach (var node in role.NodeIds())
            {
                var data = program.DataFolderOf(_options.DataDirectory, runPath, node);
                foreach (var socket in sockets)
                {
                    var path = ProgramTemplate.Expand(socket, ports, data, node, _options.BindAddress);
                    if (UnixSockets.CheckPath(path, $"{node} ({role.Role})") is { } problem)
                    {
                        yield return problem;
                        break;
                    }
                }
            }
        }
    }

    private void PrintPortMap(PortMap map)
    {
        var rows = new List<string[]> { new[] { "node", "role", "ports" } };
        rows.Add(["control API", "supervisor", ControlUrl.ToString().TrimEnd('/')]);
        if (_dashboard is not null)
        {
            rows.Add(["dashboard", "supervisor", $"http://{SupervisorListener.LocalHost(_options.ListenAddress)}:{_dashboard.Port}"]);
        }
        rows.AddRange(map.Rows().Select(r => new[] { r.Node, r.Role, r.Ports }));
        var widths = Enumerable.Range(0, 3).Select(c => rows.Max(r => r[c].Length)).ToArray();
        foreach (var row in rows)
        {
            Say($"{row[0].PadRight(widths[0])}  {row[1].PadRight(widths[1])}  {row[2]}");
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (!_end.Task.IsCompleted && _control is not null)
        {
            // Disposed without a finished run: still take every child down.
            _end.TrySetResult((RunEnd.Stopped, null, null));
            await StopAllAsync();
            if (_dashboard is not null)
            {
                await _dashboard.DisposeAsync();
            }

            await _control.DisposeAsync();
            _recorder?.Run.DeleteControlAccess();
            _credentials?.DeleteAll();
        }

        _credentials?.Dispose();
        await RemoveCgroupAsync();

        // Also when the start failed half-way (the control API's port was taken): the run's logs are open.
        _recorder?.Dispose();
        _prober.Dispose();
    }
}
