using Corral.Node.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

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
            NodeId = "n-1", Role = "test.node", Token = TestNodeContext.CredentialOf("n-1", "test.node"), Credentials = TestNodeContext.Issuer.Verifier, ControlUrl = new Uri("http://127.0.0.1:1"), RunId = "run-1",
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

public sealed class NodeExitCodeTests
{
    [Fact]
    public async Task Background_work_that_fails_makes_the_node_exit_1_not_a_clean_drain()
    {
        Assert.Equal(1, await RunNodeAsync(lifetime => new FailingWork(lifetime)));
    }

    [Fact]
    public async Task Background_work_that_ends_and_stops_the_node_makes_it_exit_0()
    {
        Assert.Equal(0, await RunNodeAsync(lifetime => new StoppingWork(lifetime)));
    }

    [Fact]
    public async Task A_node_told_to_watch_its_control_plane_stops_and_exits_1_once_it_has_not_answered_for_the_grace()
    {
        using var folder = new TempFolder("corral-exit-");
        var control = await ControlApiStub.StartAsync();
        var context = control.Context("n-1", "test.node", folder.Path) with { ControlLossGrace = TimeSpan.FromMilliseconds(500) };
        var builder = NodeHost.CreateBuilder(context);
        await using var app = builder.Build();
        app.UseNodeDefaults();

        var running = NodeHost.RunAsync(app);
        await control.PortOf("n-1");
        Assert.False(running.IsCompleted, "the node stopped while its control plane answered");
        // The supervisor is gone (its control API with it), as after a SIGKILL.
        await control.DisposeAsync();

        Assert.Equal(1, await running.WaitAsync(TimeSpan.FromSeconds(30)));
    }

    private static async Task<int> RunNodeAsync(Func<IHostApplicationLifetime, BackgroundService> work)
    {
        using var folder = new TempFolder("corral-exit-");
        await using var control = await ControlApiStub.StartAsync();
        var builder = NodeHost.CreateBuilder(control.Context("n-1", "test.node", folder.Path));
        builder.Services.AddHostedService(sp => work(sp.GetRequiredService<IHostApplicationLifetime>()));
        await using var app = builder.Build();
        app.UseNodeDefaults();
        return await NodeHost.RunAsync(app).WaitAsync(TimeSpan.FromSeconds(30));
    }

    /// <summary>Starts its work once the node serves, as a role's loop does.</summary>
    private abstract class WorkAfterStart(IHostApplicationLifetime lifetime) : BackgroundService
    {
        protected override async Task ExecuteAsync(CancellationToken stoppingToken)
        {
            var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            await using var registration = lifetime.ApplicationStarted.Register(() => started.TrySetResult());
            await started.Task;
            Work(lifetime);
        }

        protected abstract void Work(IHostApplicationLifetime lifetime);
    }

    private sealed class FailingWork(IHostApplicationLifetime lifetime) : WorkAfterStart(lifetime)
    {
        protected override void Work(IHostApplicationLifetime lifetime) => throw new InvalidOperationException("the work broke");
    }

    private sealed class StoppingWork(IHostApplicationLifetime lifetime) : WorkAfterStart(lifetime)
    {
        protected override void Work(IHostApplicationLifetime lifetime) => lifetime.StopApplication();
    }
}
