using System.Text.Json;
using Corral.Node.Control;
using Corral.Node.Nodes;
using Corral.Shootout.Checking;
using Corral.Shootout.Config;
using Corral.Shootout.Cowboy;
using Corral.Shootout.Server;
using Corral.Shootout.Tests.Helpers;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;

namespace Corral.Shootout.Tests.Cowboy;

/// <summary>A whole shootout in one process: the server and cowboy nodes on real ports, finding each other through the (stub) control API.</summary>
public sealed class CowboyClusterTests : IAsyncLifetime
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);
    private readonly TempFolder _dir = new();
    private readonly List<(WebApplication App, CancellationTokenSource Stop, Task<int> Run)> _nodes = [];
    private ControlApiStub _control = null!;

    public async Task InitializeAsync() => _control = await ControlApiStub.StartAsync();

    public async Task DisposeAsync()
    {
        foreach (var node in _nodes) await Stop(node);
        await _control.DisposeAsync();
        _dir.Dispose();
    }

    private static async Task<int> Stop((WebApplication App, CancellationTokenSource Stop, Task<int> Run) node)
    {
        await node.Stop.CancelAsync();
        var code = await node.Run.WaitAsync(Wait);
        await node.App.DisposeAsync();
        return code;
    }

    private (WebApplication App, CancellationTokenSource Stop, Task<int> Run) StartServer(ShootoutConfig config)
    {
        var app = ShootoutServer.Build(_control.Context("server", ShootoutPlan.ServerRole, _dir.Path, config.ToJson()), config);
        var stop = new CancellationTokenSource();
        var node = (app, stop, NodeHost.RunAsync(app, stop.Token));
        _nodes.Add(node);
        return node;
    }

    private (WebApplication App, CancellationTokenSource Stop, Task<int> Run) StartCowboy(ShootoutConfig config, int i)
    {
        var app = CowboyNode.Build(_control.Context($"cowboy-{i}", ShootoutPlan.CowboyRole, _dir.Path, config.ToJson()), config, new CowboyOptions(null));
        var stop = new CancellationTokenSource();
        var node = (app, stop, NodeHost.RunAsync(app, stop.Token));
        _nodes.Add(node);
        return node;
    }

    [Fact]
    public async Task Cowboys_play_two_rounds_through_a_server_restart_and_a_cowboy_restart()
    {
        var config = Configs.Many(4, health: 12, damage: 1, TimeSpan.FromMilliseconds(25), rounds: 2, intermission: TimeSpan.FromMilliseconds(200));
        var server = StartServer(config);
        for (var i = 1; i <= 4; i++) StartCowboy(config, i);

        var engine = server.App.Services.GetRequiredService<GameEngine>();
        await WaitForShotsAsync(engine, 10);

        // The server stops mid-round and comes back (on another port) from its store.
        _nodes.Remove(server);
        Assert.Equal(0, await Stop(server));
        server = StartServer(config);
        engine = server.App.Services.GetRequiredService<GameEngine>();
        Assert.Equal("running", engine.Snapshot.Status);

        // A cowboy restarts: its node id brings its identity back.
        var cowboy = _nodes.First(n => n.App.Services.GetRequiredService<NodeContext>().NodeId == "cowboy-2");
        _nodes.Remove(cowboy);
        Assert.Equal(0, await Stop(cowboy));
        var restarted = StartCowboy(config, 2);

        var outcome = await _control.Finished.WaitAsync(Wait);
        var summary = outcome.Summary.Deserialize<ShootoutSummary>(JsonSerializerOptions.Web)!;
        Assert.Equal(2, summary.Winners.Count);
        Assert.True(restarted.App.Services.GetRequiredService<NodeReadiness>().IsReady);

        var check = ShootoutChecker.CheckFile(Path.Combine(_dir.Path, "runs", TestNodeContext.RunId, ShootoutChecker.EventsFile));
        Assert.True(check.Passed, string.Join("\n", check.Violations));
        Assert.Equal(2, check.Winners.Count);
        Assert.Equal(["cowboy-1", "cowboy-2", "cowboy-3", "cowboy-4"], engine.Snapshot.Cowboys.Select(c => c.Node!).Order());
    }

    private static async Task WaitForShotsAsync(GameEngine engine, int shots)
    {
        using var timeout = new CancellationTokenSource(Wait);
        var seen = 0;
        await foreach (var e in engine.Feed.SubscribeAsync(timeout.Token))
        {
            if (e.Kind == Corral.Shootout.Game.EventKinds.Shot && ++seen >= shots) return;
        }
    }
}
