using Corral.Node.Nodes;
using Corral.Shootout.Config;
using Corral.Shootout.Cowboy;
using Corral.Shootout.Server;
using Corral.Shootout.Tests.Helpers;
using Corral.Testing.Fuzz;
using Microsoft.AspNetCore.Builder;

namespace Corral.Shootout.Tests.Server;

/// <summary>Every route of the game server and of a cowboy under seeded fuzz: 4xx for what is wrong, never a 5xx, still live after.</summary>
public sealed class ShootoutFuzzTests : IAsyncLifetime
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);
    private readonly TempFolder _dir = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly List<(WebApplication App, Task<int> Run)> _nodes = [];
    private ControlApiStub _control = null!;

    public async Task InitializeAsync() => _control = await ControlApiStub.StartAsync();

    [Fact]
    public async Task The_servers_and_a_cowboys_routes_answer_every_fuzzed_request_without_a_5xx()
    {
        // A tick of ten minutes: the game waits, so every case meets the same server.
        var config = Configs.Of(TimeSpan.FromMinutes(10), cowboys: [("A", 5, 1), ("B", 5, 1), ("C", 5, 1)]);
        var server = Start("server", ShootoutServer.Build(_control.Context("server", ShootoutPlan.ServerRole, _dir.Path, config.ToJson()), config));
        var serverPort = await _control.PortOf("server").WaitAsync(Wait);
        var cowboy = Start("cowboy-1", CowboyNode.Build(_control.Context("cowboy-1", ShootoutPlan.CowboyRole, _dir.Path, config.ToJson()), config,
            new CowboyOptions(new Uri($"http://127.0.0.1:{serverPort}"))));
        var cowboyPort = await _control.PortOf("cowboy-1").WaitAsync(Wait);

        var serverTarget = FuzzTarget.Of("shootout.server", server, serverPort) with
        {
            SampleBodies = ["""{"nodeId":"cowboy-9"}""", """{"shooter":"A"}""", """{"nodeId":"cowboy-1"}"""],
            SampleValues = ["A", "cowboy-1"],
            // A cowboy's credential: the server takes registrations and shots from cowboys only.
            Token = TestNodeContext.CredentialOf("cowboy-1", ShootoutPlan.CowboyRole),
        };
        (await HttpFuzz.RunAsync(serverTarget, seed: 1001, count: 1000)).AssertClean();
        (await HttpFuzz.RunAsync(FuzzTarget.Of("shootout.cowboy", cowboy, cowboyPort), seed: 1002, count: 600)).AssertClean();
    }

    private WebApplication Start(string id, WebApplication app)
    {
        _nodes.Add((app, NodeHost.RunAsync(app, _stop.Token)));
        return app;
    }

    public async Task DisposeAsync()
    {
        await _stop.CancelAsync();
        foreach (var (app, run) in _nodes)
        {
            await run.WaitAsync(Wait);
            await app.DisposeAsync();
        }

        await _control.DisposeAsync();
        _dir.Dispose();
        _stop.Dispose();
    }
}
