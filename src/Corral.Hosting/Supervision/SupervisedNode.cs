using System.Diagnostics;
using System.Globalization;
using Corral.Hosting.Control;
using Corral.Hosting.Nodes;
using Corral.Hosting.Planning;

namespace Corral.Hosting.Supervision;

/// <summary>
/// One planned node across its processes: starts it once its dependencies are ready, gates readiness,
/// probes liveness, restarts it with back-off up to its role's cap, and stops it gracefully on request.
/// </summary>
internal sealed class SupervisedNode
{
    private enum Intent
    {
        None,
        Restart,
        Drain,
    }

    private static readonly TimeSpan ReadyPollInterval = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan OutputDrainTimeout = TimeSpan.FromSeconds(2);

    private readonly Supervisor _owner;
    private readonly SupervisorOptions _options;
    private readonly NodeOutput _output;
    private readonly Lock _lock = new();
    private readonly Dictionary<string, int> _ports = new(StringComparer.Ordinal);
    private RolePlan _role;
    private RolePlan? _pendingRole;
    private Intent _intent;
    private NodeState _state = NodeState.Pending;
    private Process? _process;
    private bool _signalled;
    private bool _reported;
    private int _restarts;
    private int? _lastExitCode;
    private TaskCompletionSource _poke = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public SupervisedNode(Supervisor owner, SupervisorOptions options, PlannedNode planned, NodeOutput output)
    {
        _owner = owner;
        _options = options;
        _role = planned.Role;
        Ordinal = planned.Ordinal;
        NodeId = planned.NodeId;
        _output = output;
        AssignPorts(planned.Role);
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
                return _state;
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
                State = _state,
                Pid = _process is { } p && !_process.HasExited ? p.Id : null,
                Restarts = _restarts,
                LastExitCode = _lastExitCode,
                Urls = UrlsLocked(),
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

    public void ReportEndpoints(IReadOnlyDictionary<string, int> ports)
    {
        Member? member = null;
        lock (_lock)
        {
            foreach (var (name, port) in ports)
            {
                _ports[name] = port;
            }

            _reported = true;

            if (_state is NodeState.Ready or NodeState.Unhealthy)
            {
                member = new Member(NodeId, _role.Role, UrlsLocked()) { Instance = Instance };
            }
        }

        if (_options.DynamicPorts)
        {
            _owner.Say($"{NodeId} listens on {string.Join(", ", ports.Select(p => $"{p.Key} {p.Value}"))}");
        }

        if (member is not null)
        {
            _owner.Membership.Join(member);
        }
    }

    /// <summary>The node leaves for good: it leaves the membership now, gets SIGTERM, and is killed after the grace period.</summary>
    public Task DrainAsync()
    {
        SetIntent(Intent.Drain, null);
        return Loop;
    }

    /// <summary>Marks the node draining without signalling it yet (the supervisor stops nodes in dependency order).</summary>
    public void MarkDraining()
    {
        lock (_lock)
        {
            _intent = Intent.Drain;
            if (_state is not (NodeState.Exited or NodeState.Failed or NodeState.Stopped))
            {
                _state = NodeState.Draining;
            }
        }

        _owner.Membership.Drain(NodeId, Instance);
        _owner.NotifyChanged();
        Poke();
    }

    /// <summary>Restarts the node's process now (not counted against the cap), with <paramref name="role"/> if given.</summary>
    public void Restart(RolePlan? role = null) => SetIntent(Intent.Restart, role);

    private void SetIntent(Intent intent, RolePlan? role)
    {
        lock (_lock)
        {
            // A drain is final: a later restart request must not undo it (but it still gets its signal below).
            if (_intent != Intent.Drain)
            {
                _intent = intent;
                if (role is not null)
                {
                    _pendingRole = role;
                }
            }

            // The running process drains either way; a restart then shows Starting for the next one.
            if (_state is NodeState.Starting or NodeState.Ready or NodeState.Unhealthy ||
                (_intent == Intent.Drain && _state is NodeState.Pending or NodeState.BackingOff))
            {
                _state = NodeState.Draining;
            }
        }

        _owner.Membership.Drain(NodeId, Instance);
        _owner.NotifyChanged();
        SignalIfAsked();
        Poke();
    }

    /// <summary>SIGTERM to the node's process once per intent, and SIGKILL to its group if it outlasts the grace period.</summary>
    private void SignalIfAsked()
    {
        Process process;
        lock (_lock)
        {
            if (_intent == Intent.None || _process is null || _signalled)
            {
                return;
            }

            _signalled = true;
            process = _process;
        }

        Signals.Send(process.Id, Signals.Term);
        _ = KillAfterGraceAsync(process);
    }

    private async Task KillAfterGraceAsync(Process process)
    {
        try
        {
            await process.WaitForExitAsync().WaitAsync(_options.GracePeriod, _options.Time);
        }
        catch (TimeoutException)
        {
            _owner.Say($"{NodeId} did not stop within {Format(_options.GracePeriod)}; killing its process group");
            Signals.SendToGroup(process.Id, Signals.Kill);
        }
        catch (InvalidOperationException)
        {
            // Already disposed: it exited.
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

    private Intent CurrentIntent()
    {
        lock (_lock)
        {
            return _intent;
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
            SetState(NodeState.Failed);
            _owner.Fail($"supervising {NodeId} failed: {e}");
        }
        finally
        {
            _owner.NodeEnded(this);
        }
    }

    private async Task RunProcessesAsync()
    {
        await WaitForDependenciesAsync();
        while (true)
        {
            // Taken before the stop check, so a node that waited for its turn does not start after a stop.
            var slot = await _owner.StartWindow.EnterAsync();
            RolePlan role;
            var stopped = false;
            lock (_lock)
            {
                // The supervisor's lock is never taken while this one is held (it takes them the other way round).
                if (_intent == Intent.Drain || _owner.Stopping)
                {
                    _state = NodeState.Stopped;
                    stopped = true;
                }
                else
                {
                    if (_pendingRole is not null)
                    {
                        AssignPorts(_pendingRole);
                        _role = _pendingRole;
                        _pendingRole = null;
                    }

                    _intent = Intent.None;
                    _signalled = false;
                }

                role = _role;
            }

            if (stopped)
            {
                slot.Release();
                _owner.NotifyChanged();
                return;
            }

            var (exitCode, failure) = await RunOnceAsync(role, slot);
            _owner.Membership.Leave(NodeId, Instance);
            lock (_lock)
            {
                _lastExitCode = exitCode;
            }

            var intent = CurrentIntent();
            if (intent == Intent.Drain || _owner.Stopping)
            {
                _owner.Say($"{NodeId} stopped (exit {exitCode})");
                SetState(NodeState.Stopped);
                return;
            }

            if (intent == Intent.Restart)
            {
                _owner.Say($"{NodeId} restarting on request");
                continue;
            }

            if (failure is null && exitCode == 0)
            {
                _owner.Say($"{NodeId} drained (exit 0); it is not restarted");
                SetState(NodeState.Exited);
                return;
            }

            var why = failure ?? $"exited with code {exitCode}";
            if (role.Restart == RestartPolicy.Never)
            {
                _owner.Say($"{NodeId} {why}; its restart policy is never");
                SetState(NodeState.Failed);
                return;
            }

            int restarts;
            lock (_lock)
            {
                restarts = _restarts;
            }

            if (restarts >= role.MaxRestarts)
            {
                SetState(NodeState.Failed);
                var tail = Tail();
                _owner.Fail($"{NodeId} {why} and has used all {role.MaxRestarts} restarts; its last {tail.Count} log lines:" +
                            string.Concat(tail.Select(line => Environment.NewLine + "  " + line)));
                return;
            }

            lock (_lock)
            {
                _restarts = ++restarts;
            }

            var delay = Backoff(role, restarts);
            _owner.Say($"{NodeId} {why}; restart {restarts} of {role.MaxRestarts} in {Format(delay)}");
            SetState(NodeState.BackingOff);
            await Task.WhenAny(Task.Delay(delay, _options.Time), Poked());
        }
    }

    /// <summary>Exponential back-off: the first restart waits the initial delay, each next one twice as long, up to the maximum.</summary>
    internal static TimeSpan Backoff(RolePlan role, int restart)
    {
        var factor = Math.Pow(2, Math.Min(restart - 1, 30));
        var ticks = Math.Min(role.InitialBackoff.Ticks * factor, role.MaxBackoff.Ticks);
        return TimeSpan.FromTicks((long)ticks);
    }

    private async Task WaitForDependenciesAsync()
    {
        while (true)
        {
            var waitingFor = _owner.UnreadyDependency(Role);
            if (waitingFor is null || CurrentIntent() == Intent.Drain || _owner.Stopping)
            {
                return;
            }

            var changed = _owner.Changed;
            if (_owner.UnreadyDependency(Role) is null)
            {
                return;
            }

            await Task.WhenAny(changed, Poked());
        }
    }

    /// <summary>Runs one process of the node until it exits; returns its exit code and why the supervisor killed it, if it did.</summary>
    private async Task<(int ExitCode, string? Failure)> RunOnceAsync(RolePlan role, StartWindow.Slot slot)
    {
        SetState(NodeState.Starting);
        Process process;
        try
        {
            process = await StartProcessAsync(role);
        }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or InvalidOperationException or IOException)
        {
            slot.Release();
            _output.Line($"corral: could not start the process: {e.Message}");
            return (-1, $"could not start ({e.Message})");
        }

        lock (_lock)
        {
            _reported = false;
        }

        var pumps = Task.WhenAll(_output.PumpAsync(process.StandardOutput), _output.PumpAsync(process.StandardError));
        lock (_lock)
        {
            _process = process;
        }

        _owner.Say($"{NodeId} started (pid {process.Id})");
        _owner.NotifyChanged();
        SignalIfAsked();
        string? failure;
        try
        {
            failure = await SuperviseAsync(process, slot);
        }
        finally
        {
            slot.Release();
            // Whatever the node left behind in its group (a grandchild) goes with it.
            await process.WaitForExitAsync();
            Signals.SendToGroup(process.Id, Signals.Kill);
            await Task.WhenAny(pumps, Task.Delay(OutputDrainTimeout));
        }

        var exitCode = process.ExitCode;
        lock (_lock)
        {
            _process = null;

            // A reused dynamic port may have been taken meanwhile: a process that never reported its ports
            // gets fresh ones (0) next time instead of failing on the same bind until the cap.
            if (_options.DynamicPorts && !_reported)
            {
                foreach (var name in _ports.Keys.ToArray())
                {
                    _ports[name] = 0;
                }
            }
        }

        process.Dispose();
        return (exitCode, failure);
    }

    private Task<Process> StartProcessAsync(RolePlan role)
    {
        var launcher = _owner.Launcher;
        string ports;
        lock (_lock)
        {
            ports = NodeContext.FormatPorts(_ports);
        }

        return ProcessSpawner.Shared.StartAsync(launcher.Executable, launcher.Arguments(role.Role, role.Args), info =>
        {
            info.RedirectStandardInput = true;
            info.RedirectStandardOutput = true;
            info.RedirectStandardError = true;
            var environment = info.Environment;
            environment[NodeEnvironment.NodeId] = NodeId;
            environment[NodeEnvironment.Token] = _options.Token;
            environment[NodeEnvironment.ControlUrl] = _owner.ControlUrl.ToString().TrimEnd('/');
            environment[NodeEnvironment.RunId] = _owner.Run.RunId;
            environment[NodeEnvironment.RunDirectory] = _owner.Run.Path;
            environment[NodeEnvironment.DataDirectory] = Path.GetFullPath(_options.DataDirectory);
            environment[NodeEnvironment.Seed] = _options.Seed.ToString(CultureInfo.InvariantCulture);
            environment[NodeEnvironment.Ports] = ports;
            environment[NodeEnvironment.BindAddress] = _options.BindAddress;
        }).ContinueWith(started =>
        {
            // A node reads nothing from the terminal: give it end-of-file, not the supervisor's input.
            if (started.IsCompletedSuccessfully)
            {
                started.Result.StandardInput.Close();
            }

            return started;
        }, TaskScheduler.Default).Unwrap();
    }

    private async Task<string?> SuperviseAsync(Process process, StartWindow.Slot slot)
    {
        var exited = process.WaitForExitAsync();
        using var probing = new CancellationTokenSource();
        var ready = WaitReadyAsync(probing.Token);
        await Task.WhenAny(exited, ready);
        if (exited.IsCompleted)
        {
            slot.Release();
            await probing.CancelAsync();
            return null;
        }

        if (!await ready)
        {
            slot.Release();
            _owner.Say($"{NodeId} was not ready within {Format(_options.ReadyTimeout)}; killing it");
            Signals.SendToGroup(process.Id, Signals.Kill);
            return $"was not ready within {Format(_options.ReadyTimeout)}";
        }

        Member? member = null;
        lock (_lock)
        {
            if (_intent == Intent.None)
            {
                _state = NodeState.Ready;
                member = new Member(NodeId, _role.Role, UrlsLocked()) { Instance = Instance };
            }
        }

        if (member is not null)
        {
            _owner.Say($"{NodeId} ready");
            _owner.Membership.Join(member);
            _owner.NotifyChanged();
        }

        slot.Release();

        var failures = 0;
        while (true)
        {
            await Task.WhenAny(exited, Task.Delay(_options.LivenessInterval, _options.Time));
            if (exited.IsCompleted)
            {
                return null;
            }

            if (CurrentIntent() != Intent.None)
            {
                continue;
            }

            var live = ProbeUrl("/healthz") is { } url && await _owner.ProbeAsync(url, _options.LivenessTimeout);
            failures = live ? 0 : failures + 1;
            SetLiveState(live);
            if (failures >= _options.LivenessFailures)
            {
                _owner.Say($"{NodeId} failed {failures} liveness probes in a row; killing it");
                Signals.SendToGroup(process.Id, Signals.Kill);
                return $"failed {failures} liveness probes";
            }
        }
    }

    private void SetLiveState(bool live)
    {
        lock (_lock)
        {
            if (_intent != Intent.None || _state is not (NodeState.Ready or NodeState.Unhealthy))
            {
                return;
            }

            _state = live ? NodeState.Ready : NodeState.Unhealthy;
        }
    }

    private async Task<bool> WaitReadyAsync(CancellationToken cancellationToken)
    {
        var deadline = _options.Time.GetTimestamp() + (long)(_options.ReadyTimeout.TotalSeconds * _options.Time.TimestampFrequency);
        while (!cancellationToken.IsCancellationRequested)
        {
            if (ProbeUrl("/readyz") is { } url && await _owner.ProbeAsync(url, TimeSpan.FromSeconds(1)))
            {
                return true;
            }

            if (_options.Time.GetTimestamp() >= deadline)
            {
                return false;
            }

            try
            {
                await Task.Delay(ReadyPollInterval, _options.Time, cancellationToken);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }

        return false;
    }

    /// <summary>The probe URL, or null while a dynamic port is not yet reported.</summary>
    private Uri? ProbeUrl(string path)
    {
        lock (_lock)
        {
            return _ports.TryGetValue(_role.ProbePort, out var port) && port > 0
                ? new Uri($"http://{_options.BindAddress}:{port}{path}")
                : null;
        }
    }

    private void SetState(NodeState state)
    {
        lock (_lock)
        {
            _state = state;
        }

        _owner.NotifyChanged();
    }

    /// <summary>Fixed ports from the plan (plus the offset); dynamic ones are 0 until reported, then reused on restarts.</summary>
    private void AssignPorts(RolePlan role)
    {
        var previous = new Dictionary<string, int>(_ports);
        _ports.Clear();
        foreach (var port in role.Ports)
        {
            _ports[port.Name] = _options.DynamicPorts
                ? previous.GetValueOrDefault(port.Name)
                : role.PortOf(port, Ordinal) + _options.PortOffset;
        }
    }

    private Dictionary<string, string> UrlsLocked() =>
        _ports.Where(p => p.Value > 0).ToDictionary(p => p.Key, p => $"http://{_options.BindAddress}:{p.Value}");

    internal static string Format(TimeSpan span) =>
        span.TotalSeconds >= 1 ? $"{span.TotalSeconds:0.#}s" : $"{span.TotalMilliseconds:0}ms";
}
