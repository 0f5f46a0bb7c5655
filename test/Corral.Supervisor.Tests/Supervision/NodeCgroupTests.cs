using System.Text.RegularExpressions;
using Corral.Supervisor.Supervision;

namespace Corral.Supervisor.Tests.Supervision;

/// <summary>
/// Each node process runs in a cgroup of its own inside the run's: what it leaves behind dies with it even after leaving
/// its session, where no session sweep can find it. This machine (root, cgroup2 mounted) is where the tests run, so
/// they assert that the cgroup was used, not merely that the process is gone.
/// </summary>
public sealed class NodeCgroupTests
{
    [Fact]
    public async Task A_grandchild_that_left_its_session_dies_with_its_node_and_the_node_cgroup_is_removed()
    {
        var spawner = StubApp.Role("spawner", 1, "--grandchild", "escaped");
        var keeper = StubApp.Role("keeper", 1);
        await using var h = await new Harness(StubApp.Loaded(spawner, keeper)).StartAsync();
        await h.WaitReadyAsync(60, "spawner-1", "keeper-1");
        await h.WaitLineAsync("spawner-1", "grandchild pid");
        var node = h.Node("spawner-1").Pid!.Value;
        var grandchild = h.Sink.PrintedPids("grandchild pid").Single();
        await Eventually.TrueAsync(() => SessionOf(grandchild) == grandchild, TimeSpan.FromSeconds(10), $"grandchild {grandchild} in a session of its own");
        Assert.NotEqual(node, SessionOf(grandchild));

        // In the node's cgroup, inside the run's, named after this supervisor: the session sweep cannot find it, the cgroup can.
        var folder = Cgroup.FolderOf(grandchild.ToString());
        Assert.NotNull(folder);
        Assert.Matches($@"/corral-{Regex.Escape(h.Supervisor.Run.RunId)}-p{Environment.ProcessId}-s[0-9]+/spawner-1-1$", folder);
        Assert.Equal(folder, Cgroup.FolderOf(node.ToString()));

        // The spawner leaves the plan: it drains, and its cgroup is killed once it has.
        h.Source.Set(StubApp.Loaded(keeper));

        await Eventually.TrueAsync(() => !Signals.IsAlive(grandchild), TimeSpan.FromSeconds(30), $"grandchild {grandchild} gone with its node\n{h.Sink.Dump()}");
        await Eventually.TrueAsync(() => !Directory.Exists(folder), TimeSpan.FromSeconds(10), $"{folder} removed");
        Assert.False(Signals.IsAlive(node));
        Assert.True(Directory.Exists(Path.GetDirectoryName(folder)), "the run's cgroup stays while the run runs");
        Assert.True(Signals.IsAlive(h.Node("keeper-1").Pid!.Value));

        await h.StopAsync();
        Assert.False(Directory.Exists(Path.GetDirectoryName(folder)), "the run's cgroup is removed when the run ends");
    }

    private static int? SessionOf(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            return int.Parse(stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[3]);
        }
        catch (IOException)
        {
            return null;
        }
    }
}
