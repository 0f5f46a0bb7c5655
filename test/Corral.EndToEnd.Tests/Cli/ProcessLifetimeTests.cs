using System.Runtime.Versioning;
using System.Text.RegularExpressions;
using Corral.EndToEnd.Tests.WorkQueue;

namespace Corral.EndToEnd.Tests.Cli;

/// <summary>However `corral up` ends, no node it started outlives it.</summary>
[Collection(EndToEnd.Collection)]
[UnsupportedOSPlatform("windows")]
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

    [Fact]
    public async Task After_a_sigkilled_supervisor_the_next_prune_kills_a_spec_grandchild_that_left_its_session()
    {
        using var run = new WorkQueueRun(WorkQueueRun.SpecList("escape"), "workers: 1\ntimeout: 60s\nretries: 0");
        await using var corral = run.Up();
        var spec = await run.PidAsync("task:g:0.1.pid", Timeout);
        var escaped = await run.PidAsync("task:g:0.1.child", Timeout);
        await Eventually.TrueAsync(() => SessionOf(escaped) == escaped, TimeSpan.FromSeconds(10), $"the spec's child {escaped} in a session of its own");
        var runId = WorkQueueRun.RunIdOf(corral);
        // Held by the worker's cgroup inside the run's, named after this supervisor (so the test cannot pass without it).
        Assert.Matches($@"^0::/(.+/)?corral-{Regex.Escape(runId)}-p{corral.Pid}-s[0-9]+/worker-1-1$",
            File.ReadLines($"/proc/{escaped}/cgroup").Single(l => l.StartsWith("0::", StringComparison.Ordinal)));
        var nodes = corral.AllNodePids();

        corral.Signal(Posix.SigKill);

        // The nodes and the spec die with the supervisor (parent-death signals); the child that left its session does not.
        await Eventually.TrueAsync(() => nodes.Append(spec).All(pid => !Posix.IsAlive(pid)), TimeSpan.FromSeconds(10), "the nodes and the spec to end with the supervisor");
        Assert.True(Posix.IsAlive(escaped), $"{escaped} left its session: only the run's cgroup still holds it");

        var (code, output) = await CorralProcess.RunAsync(_folder.Path, Timeout, "prune", "--data", run.Data);

        // Two: the escaped child, and the spec's own foreground sleep (the spec died with the worker; its sleep has no parent-death signal).
        Assert.Equal(0, code);
        var line = Regex.Match(output, $@"run {Regex.Escape(runId)} ended without its supervisor \(pid {corral.Pid}\): killed 2 processes left in it and removed its cgroup (?<folder>\S+)");
        Assert.True(line.Success, output);
        await Eventually.TrueAsync(() => !Posix.IsAlive(escaped), TimeSpan.FromSeconds(10), $"{escaped} killed by the prune");
        Assert.False(Directory.Exists(line.Groups["folder"].Value));
    }

    private static int SessionOf(int pid)
    {
        var stat = File.ReadAllText($"/proc/{pid}/stat");
        return int.Parse(stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[3]);
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
