using System.Diagnostics;
using Corral.Node.Control;
using Corral.Supervisor.Supervision;

namespace Corral.Supervisor.Tests.Supervision;

/// <summary>The retention rule on real folders: the newest N runs stay, a running run stays, a dead run's leftovers do not protect it.</summary>
public sealed class RunRetentionTests : IDisposable
{
    private static readonly DateTimeOffset Start = new(2026, 11, 22, 4, 15, 0, TimeSpan.Zero);
    private readonly TempFolder _data = new("corral-retention-");

    /// <summary>Five runs a minute apart, oldest first.</summary>
    private IReadOnlyList<RunFolder> FiveRuns()
    {
        var runs = Enumerable.Range(0, 5).Select(i => RunFolder.Create(_data.Path, Start.AddMinutes(i))).ToList();
        foreach (var run in runs)
        {
            File.WriteAllText(run.LogOf("corral"), "a line\n");
        }

        return runs;
    }

    private string[] Left() =>
        Directory.GetDirectories(RunFolder.RunsPath(_data.Path)).Select(p => Path.GetFileName(p)).Order(StringComparer.Ordinal).ToArray();

    [Fact]
    public void The_newest_runs_are_kept_and_the_older_ones_removed()
    {
        var runs = FiveRuns();
        Directory.CreateDirectory(Path.Combine(RunFolder.RunsPath(_data.Path), "notes"));

        var pruned = RunRetention.Prune(_data.Path, keep: 2);

        Assert.Equal([runs[2].RunId, runs[1].RunId, runs[0].RunId], pruned.Removed.Select(r => r.RunId));
        Assert.Equal(3 * "a line\n".Length, pruned.Bytes);
        Assert.Equal(2, pruned.Left);
        Assert.Empty(pruned.Failures);
        Assert.Equal([runs[3].RunId, runs[4].RunId, "notes"], Left());
    }

    [Fact]
    public void A_running_run_is_kept_however_old_it_is()
    {
        var runs = FiveRuns();
        // This test's process stands for the oldest run's supervisor: it is alive.
        runs[0].WriteControlAccess(new ControlAccess("http://127.0.0.1:7999/", "token"));

        var pruned = RunRetention.Prune(_data.Path, keep: 1);

        Assert.Equal([runs[3].RunId, runs[2].RunId, runs[1].RunId], pruned.Removed.Select(r => r.RunId));
        Assert.Equal([runs[0].RunId, runs[4].RunId], Left());
    }

    [Fact]
    public async Task A_control_file_left_by_a_dead_supervisor_does_not_protect_its_run()
    {
        var runs = FiveRuns();
        using var exited = Process.Start(new ProcessStartInfo("true") { UseShellExecute = false })!;
        await exited.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
        File.WriteAllText(runs[0].ControlPath, $$"""{"url":"http://127.0.0.1:7999/","token":"token","pid":{{exited.Id}}}""");

        var pruned = RunRetention.Prune(_data.Path, keep: 4);

        Assert.Equal([runs[0].RunId], pruned.Removed.Select(r => r.RunId));
        Assert.Equal(runs.Skip(1).Select(r => r.RunId), Left());
    }

    [Fact]
    public void A_control_file_without_a_pid_is_kept_because_it_may_be_a_running_older_version()
    {
        var runs = FiveRuns();
        File.WriteAllText(runs[0].ControlPath, """{"url":"http://127.0.0.1:7999/","token":"token"}""");

        RunRetention.Prune(_data.Path, keep: 4);

        Assert.Equal(runs.Select(r => r.RunId), Left());
    }

    [Fact]
    public void Keeping_zero_keeps_every_run()
    {
        var runs = FiveRuns();

        var pruned = RunRetention.Prune(_data.Path, keep: 0);

        Assert.Empty(pruned.Removed);
        Assert.Equal(runs.Select(r => r.RunId), Left());
    }

    [Fact]
    public void A_missing_runs_folder_is_nothing_to_prune()
    {
        var pruned = RunRetention.Prune(_data.Path, keep: 3);

        Assert.Empty(pruned.Removed);
        Assert.Equal(0, pruned.Left);
    }

    [Fact]
    public async Task A_starting_run_applies_keep_runs_and_says_so_keeping_itself()
    {
        var runs = FiveRuns();
        await using var h = new Harness(StubApp.Loaded(StubApp.Role("a", 0)), o => o with { DataDirectory = _data.Path, KeepRuns = 2 });

        await h.Supervisor.StartAsync();

        Assert.Equal([runs[4].RunId, h.Supervisor.Run.RunId], Left());
        Assert.True(h.Sink.Has("corral", "removed 4 old runs"), h.Sink.Dump());
    }

    [Fact]
    public void A_negative_keep_runs_is_refused_by_the_options()
    {
        var options = new SupervisorOptions { DataDirectory = _data.Path, KeepRuns = -1 };

        Assert.Contains("--keep-runs must be 0 (keep all) or more, not -1", options.Validate());
    }

    public void Dispose() => _data.Dispose();
}
