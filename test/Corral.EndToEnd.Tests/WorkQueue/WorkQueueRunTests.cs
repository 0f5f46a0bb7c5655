using System.Runtime.Versioning;
using System.Xml.Linq;
using Corral.WorkQueue.Store;

namespace Corral.EndToEnd.Tests.WorkQueue;

/// <summary>The real corral binary runs work queues on both stores; workers, controllers and specs are really killed.</summary>
[Collection(EndToEnd.Collection)]
[UnsupportedOSPlatform("windows")]
public sealed class WorkQueueRunTests
{
    private static readonly TimeSpan RunTimeout = TimeSpan.FromSeconds(90);

    [Theory]
    [InlineData("sqlite")]
    [InlineData("redis")]
    public async Task A_worker_killed_mid_task_its_task_runs_again_after_the_lease_expires_no_spec_process_is_left_and_every_task_is_final_once(string store)
    {
        using var run = new WorkQueueRun(WorkQueueRun.SpecList("slow", "quick", "quick", "quick"), $"workers: 2\nlease: 1s\ntimeout: 60s\nstore: {store}");
        await using var corral = run.Up();

        var spec = await run.PidAsync("task:g:0.1.pid", RunTimeout);
        var child = await run.PidAsync("task:g:0.1.child", RunTimeout);
        var worker = WorkQueueRun.ParentOf(spec);
        // A native worker can claim and start its spec before the supervisor's "started (pid)" line is out.
        await Eventually.TrueAsync(() => corral.AllNodePids().Contains(worker), TimeSpan.FromSeconds(10), $"the spec's parent {worker} to be a node the supervisor started");
        Posix.Signal(worker, Posix.SigKill);

        Assert.Equal(0, await corral.WaitForExitAsync(RunTimeout));
        await Eventually.TrueAsync(() => !Posix.IsAlive(spec) && !Posix.IsAlive(child), TimeSpan.FromSeconds(10), "the killed worker's spec and its child to be gone");
        var results = WorkQueueRun.Results(corral);
        Assert.Equal(4, results.Tasks.Count);
        Assert.All(results.Tasks, t => Assert.Equal("passed", t.Task.Result));
        var slow = results.Tasks.Single(t => t.Task.Key == "task:g:0");
        Assert.Equal(2, slow.Task.Attempts);
        Assert.Equal([2], slow.Attempts.Select(a => a.Attempt)); // attempt 1 was lost with its worker, never reported
        Assert.All(results.Tasks.Where(t => t.Task.Key != "task:g:0"), t => Assert.Single(t.Attempts));
        var log = File.ReadAllText(Path.Combine(WorkQueueRun.RunFolderOf(corral), "tasks", "task_g_0.attempt-2.log"));
        Assert.Contains($"spec slow task:g:0 attempt 2 on desktop-chrome run {WorkQueueRun.RunIdOf(corral)} credential=none", log);
    }

    [Fact]
    public async Task One_worker_with_concurrency_3_runs_three_specs_at_once_each_in_a_process_group_of_its_own_and_exits_0()
    {
        // Each gate spec passes only once all three have started, so a run that passes ran them at the same time.
        using var run = new WorkQueueRun(WorkQueueRun.SpecList("gate", "gate", "gate"), "workers: 1\nconcurrency: 3\nretries: 0\ntimeout: 60s");
        await using var corral = run.Up();

        Assert.Equal(0, await corral.WaitForExitAsync(RunTimeout));
        var results = WorkQueueRun.Results(corral);
        Assert.All(results.Tasks, t => Assert.Equal("passed", t.Task.Result));
        Assert.Equal(["worker-1"], results.Tasks.SelectMany(t => t.Attempts).Select(a => a.Worker).Distinct());
        var groups = Directory.GetFiles(run.Pids, "*.gate").Select(f => File.ReadAllText(f).Trim()).ToArray();
        Assert.Equal(3, groups.Distinct().Count());
    }

    [Theory]
    [InlineData("sqlite")]
    [InlineData("redis")]
    public async Task The_whole_run_killed_and_resumed_finishes_with_nothing_duplicated_or_lost(string store)
    {
        using var run = new WorkQueueRun(WorkQueueRun.SpecList("medium", "medium", "medium", "medium", "medium", "medium", "medium", "medium"),
            $"workers: 2\nlease: 1s\ntimeout: 60s\nstore: {store}");
        string runId;
        IReadOnlyList<(string Key, int Attempt, string Worker)> passedBeforeKill;
        await using (var first = run.Up())
        {
            await first.WaitForLineAsync(l => l.Contains(" passed: ", StringComparison.Ordinal), RunTimeout, "a first task to pass", skip: 1);
            runId = WorkQueueRun.RunIdOf(first);
            // What the controller printed before the kill is in its store (it prints a result once the store has it).
            passedBeforeKill = WorkQueueRun.Passed(first.Lines);
            first.Signal(Posix.SigKill);
            await first.WaitForExitAsync(TimeSpan.FromSeconds(10));
        }

        await using var resumed = run.Up("--resume", runId);
        Assert.Equal(0, await resumed.WaitForExitAsync(RunTimeout));

        var resumedFrom = WorkQueueRun.Resumed(resumed, runId);
        Assert.Equal(8, resumedFrom.Tasks);
        var results = WorkQueueRun.Results(resumed);
        WorkQueueRun.AssertFinishedWorkSurvived(passedBeforeKill, resumedFrom, results);
        Assert.Equal(8, results.Tasks.Count);
        Assert.Equal(8, results.Tasks.Select(t => t.Task.Key).Distinct().Count());
        Assert.All(results.Tasks, t =>
        {
            Assert.Equal("passed", t.Task.Result);
            var passes = t.Attempts.Where(a => a.Result == AttemptResult.Passed).ToArray();
            Assert.Single(passes); // recorded once: a task done before the kill is not run again
            Assert.Equal(t.Attempts.Count, t.Attempts.Select(a => a.Attempt).Distinct().Count());
        });
        var (code, output) = await CorralProcess.RunAsync(Path.GetTempPath(), TimeSpan.FromSeconds(30), "check", WorkQueueRun.RunFolderOf(resumed));
        Assert.True(code == 0, output);
        if (store == "redis")
        {
            // The plan's redis-server keeps its append-only file under the data folder, outside the run, so the resume found it.
            Assert.NotEmpty(Directory.GetFiles(Path.Combine(run.Data, "workqueue-redis"), "*.aof", SearchOption.AllDirectories));
        }
    }

    [Fact]
    public async Task The_controller_node_SIGKILLed_mid_run_is_restarted_and_continues_the_run_from_its_store()
    {
        using var run = new WorkQueueRun(WorkQueueRun.SpecList("medium", "medium", "medium", "medium", "medium", "medium"), "workers: 2\nlease: 1s\ntimeout: 60s");
        await using var corral = run.Up();
        await corral.WaitForLineAsync(l => l.Contains(" passed: ", StringComparison.Ordinal), RunTimeout, "a first task to pass");

        var passedBeforeKill = WorkQueueRun.Passed(corral.Lines);
        await Posix.KillAsync(corral.PidsOf("controller").Single(), TimeSpan.FromSeconds(10));

        Assert.Equal(0, await corral.WaitForExitAsync(RunTimeout));
        Assert.Equal(2, corral.PidsOf("controller").Count);
        var resumedFrom = WorkQueueRun.Resumed(corral, WorkQueueRun.RunIdOf(corral));
        Assert.Equal(6, resumedFrom.Tasks);
        var results = WorkQueueRun.Results(corral);
        WorkQueueRun.AssertFinishedWorkSurvived(passedBeforeKill, resumedFrom, results);
        Assert.All(results.Tasks, t => Assert.Single(t.Attempts, a => a.Result == AttemptResult.Passed));
        Assert.Equal(6, results.Tasks.Count(t => t.Task.Result == "passed"));
    }

    [Fact]
    public async Task A_spec_that_hunts_for_a_credential_and_reports_the_run_passed_changes_nothing_and_the_run_exits_1()
    {
        // Fails on main: the spec read CORRAL_TOKEN from its parent's environ (or control.json), its finished report was
        // taken (200) and the run exited 0 "finished (passed)" although its only spec failed.
        using var run = new WorkQueueRun(WorkQueueRun.SpecList("thief"), "workers: 1\nretries: 0");
        await using var corral = run.Up();

        Assert.Equal(1, await corral.WaitForExitAsync(RunTimeout));

        var report = File.ReadAllLines(Path.Combine(run.Pids, "thief.report"));
        Assert.Contains("end", report);
        var tries = report.Where(l => l.StartsWith("finished with a credential found: ", StringComparison.Ordinal)).ToArray();
        // It found the operator's credential in control.json (the same user may read it): that one may not report an outcome.
        Assert.Contains(report, l => l.StartsWith("read ") && l.EndsWith("control.json", StringComparison.Ordinal));
        Assert.NotEmpty(tries);
        Assert.All(tries, l => Assert.EndsWith(": 403", l));
        Assert.DoesNotContain(report, l => l.StartsWith("read ") && l.Contains("/secrets/", StringComparison.Ordinal));
        Assert.Equal(["failed"], WorkQueueRun.Results(corral).Tasks.Select(t => t.Task.Result));
        Assert.DoesNotContain(corral.Lines, l => l.Contains("finished (passed)", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_task_over_its_timeout_is_killed_with_its_children_recorded_timed_out_and_the_run_exits_1()
    {
        using var run = new WorkQueueRun(WorkQueueRun.SpecList("hang", "quick"), "workers: 1\nlease: 2s\ntimeout: 1s\nretries: 0");
        await using var corral = run.Up();

        var spec = await run.PidAsync("task:g:0.1.pid", RunTimeout);
        var child = await run.PidAsync("task:g:0.1.child", RunTimeout);
        Assert.Equal(1, await corral.WaitForExitAsync(RunTimeout));

        Assert.False(Posix.IsAlive(spec));
        Assert.False(Posix.IsAlive(child));
        var results = WorkQueueRun.Results(corral);
        Assert.Equal(["timed-out", "passed"], results.Tasks.Select(t => t.Task.Result));
        var junit = XDocument.Load(Path.Combine(WorkQueueRun.RunFolderOf(corral), "results", "junit.xml"));
        var error = junit.Descendants("testcase").First().Element("error");
        Assert.Equal("timed-out", error!.Attribute("type")!.Value);
        Assert.Contains("killed after the timeout of 1s", error.Value);
        Assert.Contains(corral.Lines, l => l.Contains("task:g:0 timed-out", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Colour_escapes_a_loud_spec_and_a_dash_spec_give_exit_1_a_valid_junit_a_capped_private_log_and_no_hang()
    {
        using var run = new WorkQueueRun(WorkQueueRun.SpecList("ansi", "loud", "-rf"), "workers: 1\nretries: 0");
        await using var corral = run.Up();

        Assert.Equal(1, await corral.WaitForExitAsync(RunTimeout));

        var junit = XDocument.Load(Path.Combine(WorkQueueRun.RunFolderOf(corral), "results", "junit.xml"));
        var cases = junit.Descendants("testcase").ToArray();
        Assert.Equal("✘ red failure \uFFFD\uFFFD bell", cases[0].Element("failure")!.Value.Trim().Split('\n')[^1]);
        Assert.Empty(cases[1].Elements());
        Assert.StartsWith("[corral] not run: argument 3 ('{spec}') would start with '-'", cases[2].Element("error")!.Value);
        var log = Path.Combine(WorkQueueRun.RunFolderOf(corral), "tasks", "task_g_1.attempt-1.log");
        Assert.InRange(new FileInfo(log).Length, 512 * 1024, 1024 * 1024 + 200);
        Assert.Contains("bytes cut from the middle of this log", File.ReadAllText(log));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(log));
        Assert.False(File.Exists(Path.Combine(run.Pids, "task:g:2.1.pid")), "the '-rf' spec must not have run");
    }

    [Fact]
    public async Task The_example_exits_0_with_flaky_tasks_reported_flaky_and_junit_lists_every_task_on_the_redis_store()
    {
        await using var corral = CorralProcess.Start(Path.GetTempPath(), "up", CorralBinary.Example("workqueue.yaml"), "--ports", "dynamic",
            "--data", Directory.CreateTempSubdirectory("corral-wq-example-").FullName, "--set", "store=redis", "--set", "workers=4");

        Assert.Equal(0, await corral.WaitForExitAsync(RunTimeout));

        var results = WorkQueueRun.Results(corral);
        Assert.Equal(5, results.Tasks.Count(t => t.Task.Result == "flaky"));
        Assert.All(results.Tasks.Where(t => t.Task.Spec == "tests/find_a_store.spec"), t => Assert.Equal("flaky", t.Task.Result));
        var junit = XDocument.Load(Path.Combine(WorkQueueRun.RunFolderOf(corral), "results", "junit.xml"));
        Assert.Equal("testsuites", junit.Root!.Name.LocalName);
        Assert.Equal(["search", "stores", "checkout"], junit.Root.Elements("testsuite").Select(s => s.Attribute("name")!.Value));
        Assert.Equal(results.Tasks.Select(t => $"{t.Task.Spec} [{t.Task.Viewport}-{t.Task.Browser}]"),
            junit.Descendants("testcase").Select(c => c.Attribute("name")!.Value));
        Assert.All(junit.Descendants("testcase"), c => Assert.NotNull(c.Attribute("time")));
        Assert.Equal("15", junit.Root.Attribute("tests")!.Value);
        Assert.Contains(corral.Lines, l => l.Contains("workqueue: 15 tasks: 10 passed, 5 flaky, 0 failed", StringComparison.Ordinal));
    }

    [Fact]
    public async Task The_failing_example_retries_its_broken_spec_reports_a_junit_failure_and_exits_1()
    {
        await using var corral = CorralProcess.Start(Path.GetTempPath(), "up", CorralBinary.Example("workqueue-failing.yaml"), "--ports", "dynamic",
            "--data", Directory.CreateTempSubdirectory("corral-wq-failing-").FullName);

        Assert.Equal(1, await corral.WaitForExitAsync(RunTimeout));

        var broken = WorkQueueRun.Results(corral).Tasks.Single(t => t.Task.Spec == "tests/broken_checkout.spec");
        Assert.Equal(("failed", 2), (broken.Task.Result, broken.Task.Attempts));
        var junit = XDocument.Load(Path.Combine(WorkQueueRun.RunFolderOf(corral), "results", "junit.xml"));
        var failure = junit.Descendants("testcase").Single(c => c.Attribute("name")!.Value.StartsWith("tests/broken_checkout.spec")).Element("failure");
        Assert.Equal("failed (exit 1) after 2 attempts", failure!.Attribute("message")!.Value);
        Assert.Contains("expected the page to show results", failure.Value);
        Assert.Equal("1", junit.Root!.Attribute("failures")!.Value);
    }

    [Fact]
    public async Task A_command_not_on_the_PATH_fails_at_start_before_any_node_runs()
    {
        var (code, output) = await CorralProcess.RunAsync(Path.GetTempPath(), TimeSpan.FromSeconds(30), "up",
            CorralBinary.Example("originals/workqueue-004-spec_context_map.json"), "--ports", "dynamic", "--set", "command=[npx-not-installed]");

        Assert.NotEqual(0, code);
        Assert.Contains("the program 'npx-not-installed' is not on the PATH", output);
        Assert.DoesNotContain("started (pid", output);
    }
}
