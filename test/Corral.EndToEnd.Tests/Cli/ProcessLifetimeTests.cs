
namespace Corral.EndToEnd.Tests.Cli;

/// <summary>However `corral up` ends, no node it started outlives it.</summary>
[Collection(EndToEnd.Collection)]
public sealed class ProcessLifetimeTests : IDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(2);
    private readonly TempFolder _folder = new();

    [Fact]
    public async Task Ctrl_c_drains_every_node_and_exits_130()
    {
        await using var corral = await StartSlowShootoutAsync();
        var pids = corral.AllNodePids();

        corral.Signal(Posix.SigInt);

        Assert.Equal(130, await corral.WaitForExitAsync(Timeout));
        Assert.All(pids, pid => Assert.False(Posix.IsAlive(pid), $"node pid {pid} outlived corral"));
        Assert.Contains(corral.Lines, l => l.Contains("stopping every node"));
    }

    [Fact]
    public async Task Sigkill_of_the_supervisor_ends_every_node()
    {
        await using var corral = await StartSlowShootoutAsync();
        var pids = corral.AllNodePids();

        corral.Signal(Posix.SigKill);

        await Eventually.TrueAsync(() => pids.All(pid => !Posix.IsAlive(pid)), TimeSpan.FromSeconds(10), "every node to end with its supervisor");
    }

    /// <summary>A one-second tick and lots of health: the game is still on when the test acts.</summary>
    private async Task<CorralProcess> StartSlowShootoutAsync()
    {
        var corral = CorralProcess.Start(_folder.Path, "up", CorralBinary.Example("shootout.yaml"), "--ports", "dynamic",
            "--data", Path.Combine(_folder.Path, "data"), "--set", "cowboys.0.health=1000", "--set", "cowboys.1.health=1000");
        await corral.WaitForLineAsync(l => l.Contains("Round 1 of 1 starts"), Timeout, "the round to start");
        Assert.Equal(6, corral.AllNodePids().Count);
        Assert.All(corral.AllNodePids(), pid => Assert.True(Posix.IsAlive(pid)));
        return corral;
    }

    public void Dispose() => _folder.Dispose();
}
