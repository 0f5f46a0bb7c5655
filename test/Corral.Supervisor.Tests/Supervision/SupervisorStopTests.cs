using System.Diagnostics;
using Corral.Node.Control;
using Corral.Supervisor.Supervision;

namespace Corral.Supervisor.Tests.Supervision;

/// <summary>No process outlives a run: not after a stop, not after the supervisor is SIGKILLed.</summary>
public sealed class SupervisorStopTests
{
    [Fact]
    public async Task Stopping_leaves_no_process_even_a_grandchild_or_a_node_that_ignores_sigterm()
    {
        var spawner = StubApp.Role("spawner", 1, "--grandchild", "plain");
        var stubborn = StubApp.Role("stubborn", 1, "--ignore-sigterm");
        await using var h = await new Harness(StubApp.Loaded(spawner, stubborn), o => o with { GracePeriod = TimeSpan.FromSeconds(1.5) })
            .StartAsync();
        await h.WaitReadyAsync(60, "spawner-1", "stubborn-1");
        await h.WaitLineAsync("spawner-1", "grandchild pid");
        int[] pids = [h.Node("spawner-1").Pid!.Value, h.Node("stubborn-1").Pid!.Value, .. h.Sink.PrintedPids("grandchild pid")];
        Assert.Equal(3, pids.Length);
        Assert.All(pids, pid => Assert.True(Signals.IsAlive(pid)));

        var result = await h.StopAsync();

        Assert.Equal(RunEnd.Stopped, result.End);
        Assert.Equal(SupervisorResult.InterruptedExitCode, result.ExitCode);
        Assert.Contains("stubborn-1 did not stop within 1.5s; killing its process group", h.Sink.Dump());
        await Eventually.TrueAsync(() => pids.All(pid => !Signals.IsAlive(pid)), TimeSpan.FromSeconds(10), "every process gone: " + string.Join(", ", pids));
    }

    [Fact]
    public async Task Stopping_drains_dependants_before_their_dependencies()
    {
        var server = StubApp.Role("server", 1) with { Singleton = true };
        var worker = StubApp.Role("worker", 1) with { DependsOn = ["test.server"] };
        await using var h = await new Harness(StubApp.Loaded(server, worker)).StartAsync();
        await h.WaitReadyAsync(60, "server", "worker-1");

        var result = await h.StopAsync();

        Assert.All(result.Nodes, n => Assert.Equal(NodeState.Stopped, n.State));
        Assert.True(h.Sink.At("worker-1", "drained") < h.Sink.At("server", "drained"), h.Sink.Dump());
        Assert.True(h.Sink.At("corral", "worker-1 stopped") < h.Sink.At("corral", "server stopped"), h.Sink.Dump());
    }

    [Fact]
    public Task A_sigkilled_supervisor_leaves_no_process() => KillSupervisorAsync(Signals.Kill, "pdeathsig", expectedExit: null);

    [Fact]
    public Task A_supervisor_given_sigterm_drains_and_leaves_no_process() => KillSupervisorAsync(Signals.Term, "plain", expectedExit: 130);

    /// <summary>Runs a supervisor of two nodes, each with a grandchild, in its own process; signals it; expects every process gone.</summary>
    private static async Task KillSupervisorAsync(int signal, string grandchild, int? expectedExit)
    {
        using var data = new TempFolder("corral-kill-");
        var info = new ProcessStartInfo(TestNodeBinary.Path) { RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var arg in new[] { "supervise", "--data", data.Path, "--nodes", "2", "--", "--grandchild", grandchild })
        {
            info.ArgumentList.Add(arg);
        }

        using var supervisor = Process.Start(info)!;
        var lines = new List<string>();
        try
        {
            var ready = 0;
            using var reading = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            while (ready < 2 && await supervisor.StandardOutput.ReadLineAsync(reading.Token) is { } line)
            {
                lines.Add(line);
                if (System.Text.RegularExpressions.Regex.IsMatch(line, @"^corral\s+\| worker-\d ready$"))
                {
                    ready++;
                }
            }

            var pids = lines.Select(l => System.Text.RegularExpressions.Regex.Match(l, @"(started \(pid|grandchild pid) (\d+)"))
                .Where(m => m.Success).Select(m => int.Parse(m.Groups[2].Value)).ToArray();
            Assert.True(pids.Length == 4, string.Join("\n", lines));
            Assert.All(pids, pid => Assert.True(Signals.IsAlive(pid), $"{pid} alive before the kill"));

            Signals.Send(supervisor.Id, signal);
            await supervisor.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
            if (expectedExit is { } code)
            {
                Assert.Equal(code, supervisor.ExitCode);
            }

            await Eventually.TrueAsync(() => pids.All(pid => !Signals.IsAlive(pid)), TimeSpan.FromSeconds(10),
                "every child and grandchild gone: " + string.Join(", ", pids.Where(Signals.IsAlive)));
        }
        finally
        {
            if (!supervisor.HasExited)
            {
                supervisor.Kill();
            }
        }
    }
}
