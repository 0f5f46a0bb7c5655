using Corral.Node.Nodes;

namespace Corral.Node.Tests.Nodes;

public sealed class NodeHostTests
{
    [Fact]
    public async Task A_node_host_watches_no_files_so_hundreds_of_nodes_fit_in_the_kernels_inotify_limit()
    {
        using var folder = new TempFolder("corral-nodehost-");
        var before = InotifyInstances();
        var context = new NodeContext
        {
            NodeId = "n-1", Role = "test.node", Token = "t", ControlUrl = new Uri("http://127.0.0.1:1"), RunId = "run-1",
            RunDirectory = folder.Path, DataDirectory = folder.Path, Ports = new Dictionary<string, int> { ["http"] = 0 },
        };
        await using var app = NodeHost.CreateBuilder(context).Build();
        await app.StartAsync();

        // Each watch is an inotify instance and the kernel allows 128 per user (fs.inotify.max_user_instances):
        // with one per node, a 300-cowboy run failed to start its nodes.
        Assert.Equal(before, InotifyInstances());
        await app.StopAsync();
    }

    private static int InotifyInstances() =>
        new DirectoryInfo("/proc/self/fd").EnumerateFileSystemInfos().Count(fd => fd.LinkTarget == "anon_inode:inotify");
}
