using Corral.Node.Control;
using Corral.Node.Planning;
using Corral.Supervisor.Supervision;
using Microsoft.Extensions.Time.Testing;

namespace Corral.Supervisor.Tests.Supervision;

/// <summary>The node state machine and its restart budget on a fake clock: no process, no socket.</summary>
public sealed class NodeLifecycleTests
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 11, 29, 12, 0, 0, TimeSpan.Zero));

    private static RolePlan Role(int maxRestarts = 5, RestartPolicy policy = RestartPolicy.OnFailure) => StubApp.Role("worker", 1) with
    {
        MaxRestarts = maxRestarts,
        Restart = policy,
        InitialBackoff = TimeSpan.FromMilliseconds(200),
        MaxBackoff = TimeSpan.FromSeconds(5),
    };

    private NodeLifecycle Started()
    {
        var life = new NodeLifecycle("worker-1", 42, _time);
        Assert.True(life.TryBeginStart(stopping: false));
        Assert.Equal(NodeState.Starting, life.State);
        return life;
    }

    /// <summary>Crash, back off, start again: what the supervisor loop does after each failure.</summary>
    private static ExitDecision Crash(NodeLifecycle life, RolePlan role)
    {
        var decision = life.Exited(3, null, role, stopping: false);
        if (decision.Action == ExitAction.BackOff)
        {
            Assert.Equal(NodeState.BackingOff, life.State);
            Assert.True(life.TryBeginStart(stopping: false));
        }

        return decision;
    }

    [Fact]
    public void A_node_goes_from_pending_through_starting_to_ready_and_unhealthy_and_back()
    {
        var life = new NodeLifecycle("worker-1", 42, _time);
        Assert.Equal(NodeState.Pending, life.State);
        Assert.True(life.TryBeginStart(stopping: false));
        Assert.True(life.BecomeReady());
        Assert.Equal(NodeState.Ready, life.State);
        life.Live(false);
        Assert.Equal(NodeState.Unhealthy, life.State);
        life.Live(true);
        Assert.Equal(NodeState.Ready, life.State);
    }

    [Fact]
    public void The_cap_counts_restarts_within_sixty_seconds_and_frees_up_as_they_age()
    {
        var role = Role(maxRestarts: 3);
        var life = Started();
        for (var i = 1; i <= 3; i++)
        {
            var decision = Crash(life, role);
            Assert.Equal(ExitAction.BackOff, decision.Action);
            Assert.Contains($"restart {i} of 3", decision.Message);
            _time.Advance(TimeSpan.FromSeconds(10));
        }

        // Three restarts in the last 30 s: a fourth failure now is one too many.
        var capped = new NodeLifecycle("worker-1", 42, _time);
        Assert.True(capped.TryBeginStart(false));
        for (var i = 0; i < 3; i++)
        {
            Crash(capped, role);
        }

        var failed = capped.Exited(3, null, role, stopping: false);
        Assert.Equal(ExitAction.FailRun, failed.Action);
        Assert.Equal(NodeState.Failed, capped.State);
        Assert.Equal("worker-1 exited with code 3 and has used all 3 restarts within 60s", failed.Message);

        // The first node's oldest restart is 30 s old; once it is 60 s old, one restart is free again (and only one).
        _time.Advance(TimeSpan.FromSeconds(30));
        var again = Crash(life, role);
        Assert.Equal(ExitAction.BackOff, again.Action);
        Assert.Contains("restart 3 of 3", again.Message);
        Assert.Equal(ExitAction.FailRun, life.Exited(3, null, role, stopping: false).Action);
        Assert.Equal(4, life.Restarts);
    }

    [Fact]
    public void Back_off_grows_per_restart_and_starts_over_after_thirty_seconds_ready()
    {
        var role = Role(maxRestarts: 100);
        var life = Started();
        var delays = new List<TimeSpan>();
        for (var i = 0; i < 4; i++)
        {
            delays.Add(Crash(life, role).Delay);
            _time.Advance(TimeSpan.FromSeconds(20));
        }

        Assert.True(delays.Zip(delays.Skip(1)).All(p => p.Second > p.First), string.Join(", ", delays));

        // Ready for 29 s is not stable: the next failure keeps growing.
        Assert.True(life.BecomeReady());
        _time.Advance(TimeSpan.FromSeconds(29));
        var unstable = Crash(life, role).Delay;
        Assert.True(unstable > delays[^1], $"{unstable} after {delays[^1]}");

        // Ready for 30 s (unhealthy only at the end): the next failure starts from the first step again.
        Assert.True(life.BecomeReady());
        _time.Advance(TimeSpan.FromSeconds(30));
        life.Live(false);
        var reset = Crash(life, role).Delay;
        Assert.InRange(reset.TotalMilliseconds, 160, 200);
    }

    [Fact]
    public void Back_off_is_exponential_capped_and_its_jitter_is_seeded()
    {
        var role = Role();
        var first = Enumerable.Range(1, 8).Select(i => NodeLifecycle.RestartDelay(role, i, 42, "worker-1")).ToArray();
        var again = Enumerable.Range(1, 8).Select(i => NodeLifecycle.RestartDelay(role, i, 42, "worker-1")).ToArray();
        var other = Enumerable.Range(1, 8).Select(i => NodeLifecycle.RestartDelay(role, i, 42, "worker-2")).ToArray();

        Assert.Equal(first, again);
        Assert.NotEqual(first, other);
        for (var i = 0; i < first.Length; i++)
        {
            var full = Math.Min(200 * Math.Pow(2, i), 5000);
            Assert.InRange(first[i].TotalMilliseconds, full * 0.8, full);
        }
    }

    [Fact]
    public void When_the_restart_policy_is_never_a_failure_fails_the_run()
    {
        var life = Started();
        var decision = life.Exited(3, null, Role(policy: RestartPolicy.Never), stopping: false);
        Assert.Equal(ExitAction.FailRun, decision.Action);
        Assert.Equal(NodeState.Failed, life.State);
        Assert.Equal("worker-1 exited with code 3; its restart policy is never", decision.Message);
    }

    [Fact]
    public void Exit_zero_is_a_drain_a_stop_request_is_final_and_a_restart_request_is_free()
    {
        var life = Started();
        life.Request(NodeIntent.Restart);
        Assert.Equal(NodeState.Draining, life.State);
        Assert.Equal(ExitAction.RestartNow, life.Exited(0, null, Role(), stopping: false).Action);
        Assert.Equal(0, life.Restarts);

        Assert.True(life.TryBeginStart(false));
        Assert.Equal(ExitAction.Drained, life.Exited(0, null, Role(), stopping: false).Action);
        Assert.Equal(NodeState.Exited, life.State);

        var drained = Started();
        drained.Request(NodeIntent.Drain);
        drained.Request(NodeIntent.Restart);
        Assert.Equal(NodeIntent.Drain, drained.Intent);
        Assert.Equal(ExitAction.Stopped, drained.Exited(137, null, Role(), stopping: false).Action);
        Assert.Equal(NodeState.Stopped, drained.State);
        Assert.False(drained.TryBeginStart(false));

        var stopping = Started();
        Assert.Equal(ExitAction.Stopped, stopping.Exited(1, null, Role(), stopping: true).Action);
    }

    [Fact]
    public void A_node_asked_to_stop_while_starting_never_becomes_ready()
    {
        var life = Started();
        life.Request(NodeIntent.Drain);
        Assert.False(life.BecomeReady());
        Assert.Equal(NodeState.Draining, life.State);
    }
}
