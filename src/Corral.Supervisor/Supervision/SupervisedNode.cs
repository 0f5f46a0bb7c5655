using System.ComponentModel;
using Corral.Node.Control;
using Corral.Node.Nodes;
using Corral.Node.Planning;
using Corral.Node.Storage;
using Corral.Node.Text;

namespace Corral.Supervisor.Supervision;

/// <summary>
/// One planned node across its processes: waits for its dependencies, starts a process (a Corral node or a
/// program), gates readiness and probes liveness, and applies what its <see cref="NodeLifecycle"/> decides when
/// the process ends (stop, restart now, back off, fail the run). The rules live in the lifecycle, the restart
/// budget, the probe and the port ledger; this class wires them to processes, the membership and its run, which it
/// reaches only through <see cref="ISupervisedNodeHost"/> and <see cref="NodeSupervisionContext"/>.
/// </summary>
internal sealed class SupervisedNode
{
    private readonly ISupervisedNodeHost _host;
    private readonly NodeSupervisionContext _context;
    private readonly SupervisorOptions _options;
    private readonly NodeOutput _output;
    private readonly Lock _lock = new();
    private readonly NodePortLedger _ports;

    /// <summary>The unix socket a program role's probe connects to, its template filled in at launch; null for other probes.</summary>
    private string? _socketPath;
    private readonly NodeLifecycle _life;
    private RolePlan _role;
    private RolePlan? _pendingRole;
    private INodeInstance? _process;

    /// <summary>How many times an external engine's node has joined (reported its endpoints), and how many of those a wait has taken.</summary>
    private long _joins;
    private long _joinsTaken;
    private bool _signalled;
    private int? _lastExitCode;
    private DateTimeOffset? _startedAt;
    private TaskCompletionSource _poke = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public SupervisedNode(ISupervisedNodeHost host, NodeSupervisionContext context, PlannedNode planned, NodeOutput output)
    {
        _host = host;
        _context = context;
        _options = context.Options;
        _role = planned.Role;
        Ordinal = planned.Ordinal;
        NodeId = planned.NodeId;
        _output = output;
        _life = new NodeLifecycle(NodeId, _options.Seed, _options.Time);
        _ports = new NodePortLedger(Ordinal, _options.PortSettings, context.Docker?.AddressOf(NodeId) ?? _options.InitialNodeAddress(NodeId));
        _ports.Assign(planned.Role);
        Loop = Task.CompletedTask;
    }

    public string NodeId { get; }

    /// <summary>Which incarnation of <see cref="NodeId"/> this is; the membership keys members by it.</summary>
    public long Instance { get; init; } = 1;

    public int Ordinal { get; }
    public Task Loop { get; private set; }

    public RolePlan Role
    {
        get
        {
            lock (_lock)
            {
                return _role;
            }
        }
    }

    public NodeState State
    {
        get
        {
            lock (_lock)
            {
                return _life.State;
            }
        }
    }

    public IReadOnlyList<string> Tail() => _output.Tail();

    /// <summary>Starts the node's loop, after <paramref name="previous"/> (a node of the same id still draining) has ended.</summary>
    public void Start(Task? previous = null) => Loop = Task.Run(async () =>
    {
        if (previous is not null)
        {
            await previous;
        }

        await RunAsync();
    });

    public NodeStatus Status()
    {
        lock (_lock)
        {
            return new NodeStatus
            {
                NodeId = NodeId,
                Instance = Instance,
                Role = _role.Role,
                State = _life.State,
                Pid = _process is { HasExited: false } p ? p.Pid : null,
                Restarts = _life.Restarts,
                LastExitCode = _lastExitCode,
                StartedAt = _process is { HasExited: false } ? _startedAt : null,
                Urls = _ports.Urls(_role),
            };
        }
    }

    /// <summary>Takes a reloaded role's settings that need no new process (restart policy, caps, dependencies).</summary>
    public void Update(RolePlan role)
    {
        lock (_lock)
        {
            if (_pendingRole is null)
            {
                _role = role;
            }
        }
    }

    /// <summary>
    /// The node reports the ports it listens on. An external engine's node is reached where it reported from, and its
    /// report is its join: a restarted container (the same node id and credential) takes its old instance's place.
    /// </summary>
    public void ReportEndpoints(IReadOnlyDictionary<string, int> ports, System.Net.IPAddress? from = null)
    {
        Member? member = null;
        string? rejoined = null;
        lock (_lock)
        {
            if (_options.Engine == SupervisorEngine.External)
            {
                if (from is not null)
                {
                    _ports.MoveTo(from.ToString());
                }

                _joins++;
                if (_process is JoinedNode { HasExited: false })
                {
                    // The running instance is the one that joined before: this is its successor.
                    _joinsTaken = _joins;
                    rejoined = _ports.Address;
                }
            }

            _ports.Report(ports);
            if (_life.State is NodeState.Ready or NodeState.Unhealthy)
            {
                member = new Member(NodeId, _role.Role, _ports.Urls(_role)) { Instance = Instance };
            }
        }

        if (_options.DynamicPorts)
        {
            SayPorts(ports);
        }

        if (rejoined is not null)
        {
            _host.Say($"{NodeId} rejoined from {rejoined}; its previous instance is gone");
        }

        if (member is not null)
        {
            _context.Membership.Join(member);
        }

        Poke();
    }

    /// <summary>The node leaves for good: it leaves the membership now, gets SIGTERM, and is killed after the grace period.</summary>
    public Task DrainAsync()
    {
        Request(NodeIntent.Drain, null);
        return Loop;
    }

    /// <summary>Marks the node draining without signalling it yet (the supervisor stops nodes in dependency order).</summary>
    public void MarkDraining()
    {
        lock (_lock)
        {
            _life.Request(NodeIntent.Drain);
        }

        _context.Membership.Drain(NodeId, Instance);
        _host.NotifyChanged();
        Poke();
    }

    /// <summary>Restarts the node's process now (not counted against the cap), with <paramref name="role"/> if given.</summary>
    public void Restart(RolePlan? role = null) => Request(NodeIntent.Restart, role);

    private void Request(NodeIntent intent, RolePlan? role)
    {
        lock (_lock)
        {
            if (_life.Intent != NodeIntent.Drain && role is not null)
            {
                _pendingRole = role;
            }

            _life.Request(intent);
        }

        _context.Membership.Drain(NodeId, Instance);
        _host.NotifyChanged();
        SignalIfAsked();
        Poke();
    }

    /// <summary>SIGTERM to the node's process once per intent, and SIGKILL to its session if it outlasts the grace period.</summary>
    private void SignalIfAsked()
    {
        INodeInstance process;
        TimeSpan grace;
        lock (_lock)
        {
            if (_life.Intent == NodeIntent.None || _process is null || _signalled)
            {
                return;
            }

            _signalled = true;
            process = _process;
            grace = _role.GracePeriod ?? _options.GracePeriod;
        }

        process.Terminate();
        _ = KillAfterGraceAsync(process, grace);
    }

    private async Task KillAfterGraceAsync(INodeInstance process, TimeSpan grace)
    {
        if (await process.KillAfterAsync(grace, _options.Time))
        {
            _host.Say($"{NodeId} did not stop within {Durations.Brief(grace)}; killing its process group");
        }
    }

    private void Poke()
    {
        TaskCompletionSource poke;
        lock (_lock)
        {
            poke = _poke;
            _poke = new(TaskCreationOptions.RunContinuationsAsynchronously);
        }

        poke.TrySetResult();
    }

    private Task Poked()
    {
        lock (_lock)
        {
            return _poke.Task;
        }
    }

    private NodeIntent CurrentIntent()
    {
        lock (_lock)
        {
            return _life.Intent;
        }
    }

    private async Task RunAsync()
    {
        try
        {
            await RunProcessesAsync();
        }
        catch (Exception e)
        {
            // A bug here must not leave the run hanging: fail it with what happened.
            lock (_lock)
            {
                _life.Fail();
            }

            _host.NotifyChanged();
            _host.Fail($"supervising {NodeId} failed: {e}");
        }
        finally
        {
            _host.NodeEnded(this);
        }
    }

    private async Task RunProcessesAsync()
    {
        if (!await WaitForDependenciesAsync())
        {
            return;
        }

        while (true)
        {
            // Taken before the stop check, so a node that waited for its turn does not start after a stop.
            var slot = await _context.StartWindow.EnterAsync();
            RolePlan role;
            bool starting;
            lock (_lock)
            {
                // The supervisor's lock is never taken while this one is held (it takes them the other way round).
                starting = _life.TryBeginStart(_host.Stopping);
                if (starting)
                {
                    if (_pendingRole is not null)
                    {
                        _ports.Assign(_pendingRole);
                        _role = _pendingRole;
                        _pendingRole = null;
                    }

                    _signalled = false;
                }

                role = _role;
            }

            _host.NotifyChanged();
            if (!starting)
            {
                slot.Release();
                return;
            }

            var (exitCode, failure) = await RunOnceAsync(role, slot);
            _context.Membership.Leave(NodeId, Instance);
            ExitDecision decision;
            bool wasReady;
            lock (_lock)
            {
                _lastExitCode = exitCode;
                wasReady = _ports.Confirmed;
                decision = _life.Exited(exitCode, failure, _role, _host.Stopping);
            }

            if (decision.Action == ExitAction.Drained && role.Program is { } program && !wasReady)
            {
                _host.Say($"{NodeId}: {program.Executable} exited 0 before it was ready; if it daemonized, it escaped supervision " +
                           "(its daemon is killed with the node's cgroup, or outlives the run where there is none): configure it to stay in the foreground");
            }

            _host.NotifyChanged();
            switch (decision.Action)
            {
                case ExitAction.RestartNow:
                    _host.Say(decision.Message);
                    continue;
                case ExitAction.BackOff:
                    _host.Say(decision.Message);
                    await Task.WhenAny(Task.Delay(decision.Delay, _options.Time), Poked());
                    continue;
                case ExitAction.FailRun:
                    var tail = Tail();
                    _host.Fail($"{decision.Message}; its last {tail.Count} log lines:" +
                                string.Concat(tail.Select(line => Environment.NewLine + "  " + line)));
                    return;
                default:
                    _host.Say(decision.Message);
                    return;
            }
        }
    }

    /// <summary>Waits until every dependency is ready; false (and the run failed) when one has ended and will never be.</summary>
    private async Task<bool> WaitForDependenciesAsync()
    {
        while (true)
        {
            var changed = _host.Changed;
            if (CurrentIntent() == NodeIntent.Drain || _host.Stopping)
            {
                return true;
            }

            if (_host.EndedDependency(Role) is { } ended)
            {
                lock (_lock)
                {
                    _life.Fail();
                }

                _host.NotifyChanged();
                _host.Fail($"{NodeId} cannot start: {ended}");
                return false;
            }

            if (_host.UnreadyDependency(Role) is null)
            {
                return true;
            }

            await Task.WhenAny(changed, Poked());
        }
    }

    /// <summary>Runs one process of the node until it exits; returns its exit code and why the supervisor killed it, if it did.</summary>
    private async Task<(int ExitCode, string? Failure)> RunOnceAsync(RolePlan role, StartWindow.Slot slot)
    {
        if (_options.Engine == SupervisorEngine.External)
        {
            return await RunJoinedAsync(role, slot);
        }

        NodeProcess process;
        Launch? launch = null;
        try
        {
            launch = LaunchOf(role);
            if (_context.Docker is { } docker)
            {
                // A container of an earlier instance whose docker run was killed may still hold the name.
                await docker.RemoveContainerAsync(NodeId);
            }

            process = await NodeProcess.StartAsync(launch, _output, _context.RunCgroup, $"{NodeId}-{Instance}");
        }
        catch (Exception e) when (e is Win32Exception or InvalidOperationException or IOException)
        {
            NodeCredentials.Discard(launch?.CredentialFile);
            slot.Release();
            _output.Line($"corral: could not start the process: {e.Message}");
            return (-1, $"could not start ({e.Message})");
        }

        lock (_lock)
        {
            _ports.ProcessStarted();
            _process = process;
            _startedAt = _options.Time.GetUtcNow();
        }

        _host.Say($"{NodeId} started (pid {process.Pid})");
        if (_context.RunCgroup is not null && process.CgroupPath is null)
        {
            _host.Note($"{NodeId} (pid {process.Pid}) got no cgroup of its own (the kernel refused); its session is swept when it ends");
        }

        _host.NotifyChanged();
        SignalIfAsked();
        string? failure;
        int exitCode;
        try
        {
            failure = await SuperviseAsync(process, role, slot);
        }
        finally
        {
            slot.Release();
            exitCode = await process.WaitAsync();
            if (_context.Docker is { } docker)
            {
                // Killing docker run (a failed liveness probe) does not stop its container.
                await docker.RemoveContainerAsync(NodeId);
            }

            NodeCredentials.Discard(launch.CredentialFile);
        }

        lock (_lock)
        {
            _process = null;
            _ports.ProcessExited();
        }

        process.Dispose();
        return (exitCode, failure);
    }

    /// <summary>
    /// One instance of a node an external engine runs: a Corral node is waited for until it joins (reports its
    /// endpoints with its credential), a program is only probed where the engine runs it; then it is supervised as a
    /// process is, and one that is not ready in time or stops answering is lost, a failure the engine's restart answers.
    /// </summary>
    private async Task<(int ExitCode, string? Failure)> RunJoinedAsync(RolePlan role, StartWindow.Slot slot)
    {
        // Waiting for an engine to start a container takes no local start slot.
        slot.Release();
        if (role.Program is null && !await WaitForJoinAsync())
        {
            return (0, null);
        }

        var node = new JoinedNode();
        string address;
        lock (_lock)
        {
            _ports.ProcessStarted();
            _process = node;
            _startedAt = _options.Time.GetUtcNow();
            address = _ports.Address;
        }

        _host.Say(role.Program is null ? $"{NodeId} joined from {address}" : $"{NodeId} is run by the engine; probing it at {address}");
        _host.NotifyChanged();
        SignalIfAsked();
        string? failure;
        try
        {
            failure = await SuperviseAsync(node, role, slot);
        }
        finally
        {
            slot.Release();
        }

        lock (_lock)
        {
            _process = null;
            _ports.ProcessExited();
        }

        return (await node.WaitAsync(), failure);
    }

    /// <summary>Waits for the node's next join; false when it was asked to stop (or the run stops) first.</summary>
    private async Task<bool> WaitForJoinAsync()
    {
        var said = false;
        while (true)
        {
            var poked = Poked();
            lock (_lock)
            {
                if (_joins > _joinsTaken)
                {
                    _joinsTaken = _joins;
                    return true;
                }
            }

            if (CurrentIntent() != NodeIntent.None || _host.Stopping)
            {
                return false;
            }

            if (!said)
            {
                said = true;
                _host.Say($"{NodeId} waits for its node to join (corral node {Role.Role} --id {NodeId} --join URL)");
            }

            await Task.WhenAny(poked, _host.Changed);
        }
    }

    /// <summary>What to start: <c>corral node &lt;role&gt;</c> with the run in its environment, or the role's program with its templates filled in.</summary>
    private Launch LaunchOf(RolePlan role)
    {
        var launch = LocalLaunchOf(role, _context.Docker?.AddressOf(NodeId) ?? _options.BindAddress);
        if (_context.Docker is not { } docker)
        {
            return launch;
        }

        // In a container: the program's own arguments, or corral node ROLE ARGS with the image's corral.
        return role.Program is { } program
            ? docker.Wrap(launch, NodeId, Path.GetFullPath(_options.DataDirectory), role.Folders, launch.Arguments, Path.GetFileName(program.Executable))
            : docker.Wrap(launch, NodeId, Path.GetFullPath(_options.DataDirectory), role.Folders, ["node", role.Role, .. role.Args], null);
    }

    /// <summary>The launch as a local process binding <paramref name="bind"/>.</summary>
    private Launch LocalLaunchOf(RolePlan role, string bind)
    {
        if (role.Program is { } program)
        {
            var data = program.DataFolderOf(_options.DataDirectory, _context.Run.Path, NodeId);
            // The program's files, and any unix socket it listens on there, are the run owner's alone.
            PrivateFiles.RestrictFolder(data);
            var programPorts = ProgramPorts();
            foreach (var template in program.Sockets)
            {
                // The node's previous process has exited: a socket file still there is its leftover (a SIGKILL
                // skips the clean-up), and a program such as etcd will not bind over it.
                File.Delete(ProgramTemplate.Expand(template, programPorts, data, NodeId, bind));
            }

            if (role.EffectiveProbe.SocketPath is { } socket)
            {
                Volatile.Write(ref _socketPath, ProgramTemplate.Expand(socket, programPorts, data, NodeId, bind));
            }

            return Launch.Program(program, programPorts, data, NodeId, bind);
        }

        Dictionary<string, int> ports;
        lock (_lock)
        {
            ports = _ports.Snapshot();
        }

        var credentials = _context.Credentials;
        return Launch.CorralNode(_context.Launcher, role, new NodeEnvironmentValues(NodeId,
            credentials.WriteFile(NodeId, Instance, role.Role), credentials.Issuer.PublicKey, _context.ControlUrl, _context.Run.RunId, _context.Run.Path, Path.GetFullPath(_options.DataDirectory),
            _options.Seed, ports, bind));
    }

    /// <summary>
    /// A program's ports: fixed ones as planned; with <c>--ports dynamic</c> a program cannot report what it bound,
    /// so the supervisor picks free ports itself (kept across restarts once the program got ready on them).
    /// </summary>
    private Dictionary<string, int> ProgramPorts()
    {
        Dictionary<string, int> ports;
        bool picked;
        lock (_lock)
        {
            ports = _ports.ForProgram(out picked);
        }

        if (picked)
        {
            SayPorts(ports);
        }

        return ports;
    }

    private async Task<string?> SuperviseAsync(INodeInstance process, RolePlan role, StartWindow.Slot slot)
    {
        var stranger = new StrangerReport();
        var socketPath = Volatile.Read(ref _socketPath);
        Func<Uri, TimeSpan, Task<bool>> check = role.Program is null
            ? (url, timeout) => AnswersAsThisNodeAsync(url, timeout, stranger)
            : (url, timeout) => _context.Prober.HttpOkAsync(url, timeout, socketPath);
        var probe = new NodeProbe(role.EffectiveProbe, check, _options.Time, socketPath);
        using var probing = new CancellationTokenSource();
        var ready = probe.WaitReadyAsync(Address(), () => ProbePort(probe), _options.ReadyTimeout, probing.Token);
        await Task.WhenAny(process.Exited, ready);
        if (process.HasExited)
        {
            slot.Release();
            await probing.CancelAsync();
            return null;
        }

        if (!await ready)
        {
            slot.Release();
            _host.Say($"{NodeId} was not ready within {Durations.Brief(_options.ReadyTimeout)}; killing it");
            process.Kill();
            return $"was not ready within {Durations.Brief(_options.ReadyTimeout)}";
        }

        Member? member = null;
        lock (_lock)
        {
            if (_life.BecomeReady())
            {
                if (role.Program is not null)
                {
                    _ports.ProgramReady();
                }

                member = new Member(NodeId, _role.Role, _ports.Urls(_role)) { Instance = Instance };
            }
        }

        if (member is not null)
        {
            _host.Say($"{NodeId} ready");
            _context.Membership.Join(member);
            _host.NotifyChanged();
        }

        slot.Release();
        if (probe.ProbesNothing)
        {
            await process.Exited;
            return null;
        }

        var failures = 0;
        while (true)
        {
            await Task.WhenAny(process.Exited, Task.Delay(_options.LivenessInterval, _options.Time));
            if (process.HasExited)
            {
                return null;
            }

            if (CurrentIntent() != NodeIntent.None)
            {
                continue;
            }

            var live = await probe.LiveAsync(Address(), ProbePort(probe), _options.LivenessTimeout);
            failures = live ? 0 : failures + 1;
            lock (_lock)
            {
                _life.Live(live);
            }

            if (failures >= _options.LivenessFailures)
            {
                _host.Say($"{NodeId} failed {failures} liveness probes in a row; killing it");
                process.Kill();
                return $"failed {failures} liveness probes";
            }
        }
    }

    /// <summary>
    /// A Corral node's probe passes only when the answer names this node instance: a stranger on the planned port (a
    /// process that took it while the node was down) is refused, named once per process, and never becomes a member,
    /// so no other node sends it requests or the credentials they carry.
    /// </summary>
    private async Task<bool> AnswersAsThisNodeAsync(Uri url, TimeSpan timeout, StrangerReport stranger)
    {
        var (ok, reply) = await _context.Prober.ProbeAsync(url, timeout);
        if (!ok)
        {
            return false;
        }

        if (reply is { NodeId: var id, Instance: var instance } && id == NodeId && instance == Instance)
        {
            return true;
        }

        if (!stranger.Said)
        {
            stranger.Said = true;
            var who = PortOwners.Describe(url.Port) is { } owner ? owner : "a process this user cannot see";
            var claims = reply?.NodeId is { } other ? $"it says it is {other} instance {reply.Instance}" : "it is not a Corral node";
            _host.Say($"{NodeId}: port {url.Port} is answered by {who}, not by {NodeId} instance {Instance} ({claims}); " +
                      "refused: it is no member and gets no requests or credentials. Stop it, or move the run with --port-offset N or --ports dynamic");
        }

        return false;
    }

    /// <summary>Whether this process's stranger on its port was reported already.</summary>
    private sealed class StrangerReport
    {
        public bool Said { get; set; }
    }

    /// <summary>Where the node's ports are reached now.</summary>
    private string Address()
    {
        lock (_lock)
        {
            return _ports.Address;
        }
    }

    /// <summary>The probed port's number, or 0 while a dynamic port is not yet reported.</summary>
    private int ProbePort(NodeProbe probe)
    {
        lock (_lock)
        {
            return _ports.PortOf(probe.Port);
        }
    }

    /// <summary>The ports a dynamic node ended up on, as tests and benchmarks read them: <c>cowboy-3 listens on http 40123</c>.</summary>
    private void SayPorts(IReadOnlyDictionary<string, int> ports) =>
        _host.Say($"{NodeId} listens on {string.Join(", ", ports.Select(p => $"{p.Key} {p.Value}"))}");
}
