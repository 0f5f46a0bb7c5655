using Corral.Node.Control;
using Corral.Node.Planning;
using Corral.Supervisor.Supervision;

namespace Corral.Supervisor.Tests.Supervision;

/// <summary>A node that can never run again ends the run instead of leaving it, or its dependants, waiting.</summary>
public sealed class NodeFailureTests
{
    [Fact]
    public async Task When_the_restart_policy_is_never_a_failed_node_fails_the_run()
    {
        var once = StubApp.Role("once", 1, "--crash-after", "300", "--exit-code", "4") with { Restart = RestartPolicy.Never };
        var other = StubApp.Role("other", 1);
        await using var h = await new Harness(StubApp.Loaded(once, other)).StartAsync();

        var result = await h.Result.WaitAsync(TimeSpan.FromSeconds(60));

        Assert.Equal(RunEnd.Failed, result.End);
        Assert.Equal(1, result.ExitCode);
        Assert.StartsWith("once-1 exited with code 4; its restart policy is never", result.Error);
        Assert.Equal(NodeState.Failed, result.Nodes.Single(n => n.NodeId == "once-1").State);
    }

    [Fact]
    public async Task A_dependant_of_a_dependency_that_exited_fails_with_a_message_naming_it()
    {
        var job = StubApp.Role("job", 1, "--exit-after", "200", "--ready-delay", "600000") with { Singleton = true };
        var worker = StubApp.Role("worker", 1) with { DependsOn = ["test.job"] };
        await using var h = await new Harness(StubApp.Loaded(job, worker)).StartAsync();

        var result = await h.Result.WaitAsync(TimeSpan.FromSeconds(60));

        Assert.Equal(RunEnd.Failed, result.End);
        Assert.Equal("worker-1 cannot start: it depends on test.job, whose node job has exited and will not become ready", result.Error);
        Assert.Equal(NodeState.Failed, result.Nodes.Single(n => n.NodeId == "worker-1").State);
    }
}
