using Corral.Node.Control;
using Corral.Node.Planning;
using Corral.Node.Randomness;
using Corral.Node.Resilience;
using Corral.Node.Text;

namespace Corral.Supervisor.Supervision;

/// <summary>What the supervisor has asked of a node's running process.</summary>
internal enum NodeIntent
{
    None,

    /// <summary>Stop this process and start the next one now (a control API restart or a changed plan).</summary>
    Restart,

    /// <summary>Stop for good; final, a later restart request does not undo it.</summary>
    Drain,
}

/// <summary>What to do once a node's process has ended.</summary>
internal enum ExitAction
{
    /// <summary>It was asked to stop: the node is <see cref="NodeState.Stopped"/>.</summary>
    Stopped,

    /// <summary>It exited 0 on its own: it drained and is <see cref="NodeState.Exited"/>, not restarted.</summary>
    Drained,

    /// <summary>A restart was requested: start the next process now, not counted against the cap.</summary>
    RestartNow,

    /// <summary>It failed: wait <see cref="ExitDecision.Delay"/>, then start again.</summary>
    BackOff,

    /// <summary>It failed for good (its policy is <c>never</c>, or it used its restarts): the run fails.</summary>
    FailRun,
}

/// <summary>The lifecycle's answer to an ended process, with the line the supervisor prints.</summary>
internal readonly record struct ExitDecision(ExitAction Action, string Message, TimeSpan Delay = default);

/// <summary>
/// The states of one planned node and the rules between them, without processes or sockets:
/// <c>Pending → Starting → Ready ⇄ Unhealthy</c>; any running state <c>→ Draining</c> when asked to stop or restart;
/// a process that ends goes to <c>Stopped</c> (asked to), <c>Exited</c> (exit 0 on its own), <c>BackingOff → Starting</c>
/// (a failure within its restart budget) or <c>Failed</c> (no restart left, or policy <c>never</c>).
/// Not thread-safe: its owner calls it under one lock.
/// </summary>
internal sealed class NodeLifecycle(string nodeId, long seed, TimeProvider time)
{
    private readonly RestartBudget _budget = new(time);

    public NodeState State { get; private set; } = NodeState.Pending;
    public NodeIntent Intent { get; private set; }
    public int Restarts => _budget.Total;

    public bool IsEnded => State is NodeState.Exited or NodeState.Failed or NodeState.Stopped;

    /// <summary>A process may start (true: now <c>Starting</c>), unless the node was drained or the run is stopping (then <c>Stopped</c>).</summary>
    public bool TryBeginStart(bool stopping)
    {
        if (Intent == NodeIntent.Drain || stopping)
        {
            State = NodeState.Stopped;
            return false;
        }

        Intent = NodeIntent.None;
        State = NodeState.Starting;
        return true;
    }

    /// <summary>The readiness probe passed: <c>Ready</c>, unless a stop or restart was asked meanwhile (false then).</summary>
    public bool BecomeReady()
    {
        if (Intent != NodeIntent.None || State != NodeState.Starting)
        {
            return false;
        }

        State = NodeState.Ready;
        _budget.Ready();
        return true;
    }

    /// <summary>A liveness probe's answer moves a ready node between <c>Ready</c> and <c>Unhealthy</c>.</summary>
    public void Live(bool live)
    {
        if (Intent != NodeIntent.None || State is not (NodeState.Ready or NodeState.Unhealthy))
        {
            return;
        }

        if (live)
        {
            State = NodeState.Ready;
            _budget.Ready();
        }
        else
        {
            State = NodeState.Unhealthy;
            _budget.NotReady();
        }
    }

    /// <summary>Asks the running process to stop (for a restart or for good); a drain is final.</summary>
    public void Request(NodeIntent intent)
    {
        if (Intent != NodeIntent.Drain)
        {
            Intent = intent;
        }

        // The running process drains either way; a restart then shows Starting for the next one.
        if (State is NodeState.Starting or NodeState.Ready or NodeState.Unhealthy ||
            (Intent == NodeIntent.Drain && State is NodeState.Pending or NodeState.BackingOff))
        {
            State = NodeState.Draining;
        }
    }

    /// <summary>A node that can never start (a bug, a dependency gone): <c>Failed</c>.</summary>
    public void Fail() => State = NodeState.Failed;

    /// <summary>Decides what follows the end of a process that exited with <paramref name="exitCode"/>.</summary>
    /// <param name="failure">Why the supervisor killed it (not ready in time, failed liveness), or null.</param>
    public ExitDecision Exited(int exitCode, string? failure, RolePlan role, bool stopping)
    {
        if (Intent == NodeIntent.Drain || stopping)
        {
            State = NodeState.Stopped;
            return new(ExitAction.Stopped, $"{nodeId} stopped (exit {exitCode})");
        }

        if (Intent == NodeIntent.Restart)
        {
            State = NodeState.Starting;
            return new(ExitAction.RestartNow, $"{nodeId} restarting on request");
        }

        _budget.NotReady();
        if (failure is null && exitCode == 0)
        {
            State = NodeState.Exited;
            return new(ExitAction.Drained, $"{nodeId} drained (exit 0); it is not restarted");
        }

        var why = failure ?? $"exited with code {exitCode}";
        if (role.Restart == RestartPolicy.Never)
        {
            State = NodeState.Failed;
            return new(ExitAction.FailRun, $"{nodeId} {why}; its restart policy is never");
        }

        if (_budget.TryTake(role.MaxRestarts) is not { } taken)
        {
            State = NodeState.Failed;
            return new(ExitAction.FailRun,
                $"{nodeId} {why} and has used all {role.MaxRestarts} restarts within {Durations.Brief(RestartBudget.Window)}");
        }

        var delay = RestartDelay(role, _budget.Step, seed, nodeId);
        State = NodeState.BackingOff;
        return new(ExitAction.BackOff, $"{nodeId} {why}; restart {taken} of {role.MaxRestarts} in {Durations.Brief(delay)}", delay);
    }

    /// <summary>
    /// The wait before restart step <paramref name="step"/>: the apps' back-off (doubling, capped), shortened by up to
    /// a fifth by a draw seeded by (run seed, node id, step), so nodes that failed together do not restart in lock-step.
    /// </summary>
    internal static TimeSpan RestartDelay(RolePlan role, int step, long seed, string nodeId) =>
        Backoff.Delay(new BackoffOptions { Initial = role.InitialBackoff, Max = role.MaxBackoff, Jitter = RestartJitter }, step,
            new SeededRandom(seed, nodeId).UnitAt(step));

    private const double RestartJitter = 0.2;
}
