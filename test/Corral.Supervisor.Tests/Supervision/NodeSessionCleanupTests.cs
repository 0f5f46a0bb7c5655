using Corral.Node.Control;
using Corral.Supervisor.Supervision;

namespace Corral.Supervisor.Tests.Supervision;

/// <summary>No process outlives its node: whatever ends a node's process, what it started in its session goes too.</summary>
public sealed class NodeSessionCleanupTests
{
    [Fact]
    public async Task A_sigkilled_node_takes_its_grandchild_in_another_process_group_with_it()
    {
        await using var h = await new Harness(StubApp.Loaded(StubApp.Role("spawner", 1, "--grandchild", "detached"))).StartAsync();
        await h.WaitReadyAsync(60, "spawner-1");
        await h.WaitLineAsync("spawner-1", "grandchild pid");
        var node = h.Node("spawner-1").Pid!.Value;
        var grandchild = h.Sink.PrintedPids("grandchild pid").Single();
        Assert.True(Signals.IsAlive(grandchild));
        Assert.NotEqual(node, ProcessGroup(grandchild));
        Assert.Contains(grandchild, Signals.SessionMembers(node));

        Signals.Send(node, Signals.Kill);

        await Eventually.TrueAsync(() => !Signals.IsAlive(grandchild), TimeSpan.FromSeconds(10), $"grandchild {grandchild} gone with its node\n{h.Sink.Dump()}");
        await Eventually.TrueAsync(() => h.Node("spawner-1") is { State: NodeState.Ready, Pid: { } pid } && pid != node, TimeSpan.FromSeconds(60),
            "the node restarted\n" + h.Sink.Dump());
    }

    private static int ProcessGroup(int pid)
    {
        var stat = File.ReadAllText($"/proc/{pid}/stat");
        return int.Parse(stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[2]);
    }
}
