using Corral.Node.Control;
using Corral.Node.Nodes;
using Corral.Shootout.Checking;
using Corral.Shootout.Config;
using Corral.Shootout.Peer;
using Microsoft.Extensions.Logging.Abstractions;

namespace Corral.Shootout.Tests.Peer;

/// <summary>
/// One peer shootout run in-process: the real <see cref="PeerCowboy"/> loops (one per cowboy) against a real etcd,
/// with a control API stub that receives the leader's <c>finished</c> report. Runs sharing an etcd never meet: each
/// has its own run id, hence its own key prefix.
/// </summary>
internal sealed class PeerHarness : IAsyncDisposable
{
    private readonly ControlApiStub _control;
    private readonly TempFolder _folder = new();
    private readonly Dictionary<string, (PeerCowboy Cowboy, CancellationTokenSource Stop)> _running = [];

    private PeerHarness(ControlApiStub control, ShootoutConfig config, string runId)
    {
        _control = control;
        Config = config;
        RunId = runId;
    }

    public ShootoutConfig Config { get; }
    public string RunId { get; }
    public string RunDirectory => _folder.Combine("runs", RunId);
    public string EventsFile => Path.Combine(RunDirectory, ShootoutChecker.EventsFile);
    public Task<RunOutcome> Finished => _control.Finished;
    public Dictionary<string, PeerView> Views { get; } = [];

    public static async Task<PeerHarness> StartAsync(ShootoutConfig config, string runId)
    {
        var harness = new PeerHarness(await ControlApiStub.StartAsync(), config, runId);
        for (var i = 1; i <= config.Cowboys.Count; i++) await harness.StartCowboyAsync($"cowboy-{i}");
        return harness;
    }

    /// <summary>Starts (or starts again) the cowboy process of <paramref name="nodeId"/>.</summary>
    public async Task<PeerCowboy> StartCowboyAsync(string nodeId)
    {
        var context = _control.Context(nodeId, ShootoutPlan.CowboyRole, _folder.Path) with { RunId = RunId, RunDirectory = RunDirectory };
        var view = new PeerView();
        var cowboy = new PeerCowboy(context, Config, view, new ControlClient(context.ControlUrl, context.Token, context.Time),
            new NodeReadiness(), NullLogger<PeerCowboy>.Instance);
        var stop = new CancellationTokenSource();
        await cowboy.StartAsync(stop.Token);
        _running[nodeId] = (cowboy, stop);
        Views[nodeId] = view;
        return cowboy;
    }

    /// <summary>Stops a cowboy: its loops end and its lease is revoked (presence and any leadership go at once).</summary>
    public async Task StopCowboyAsync(string nodeId)
    {
        var (cowboy, stop) = _running[nodeId];
        await stop.CancelAsync();
        await cowboy.StopAsync(CancellationToken.None);
        _running.Remove(nodeId);
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var nodeId in _running.Keys.ToArray()) await StopCowboyAsync(nodeId);
        await _control.DisposeAsync();
        _folder.Dispose();
    }
}
