using System.Collections;
using System.Globalization;
using System.Text;
using Corral.Node.Nodes;
using Corral.Node.Storage;
using Corral.Node.Text;
using Corral.WorkQueue.Config;
using Corral.WorkQueue.Controller;
using Corral.WorkQueue.PlaywrightRuns;
using Corral.WorkQueue.Store;

namespace Corral.WorkQueue.Worker;

/// <summary>
/// Runs the configured command for a task, without a shell, in the spec root, with the task in its environment (and not
/// the run's token). The command runs under <c>setpriv --pdeathsig KILL</c> in a process group of its own: on timeout the
/// whole group is killed; when the worker dies, the kernel kills the command and the supervisor sweeps the rest.
/// Its output goes to <c>&lt;run&gt;/tasks/&lt;key&gt;.attempt-&lt;n&gt;.log</c> (0600, capped by <see cref="AttemptLog"/>); the report carries the tail.
/// </summary>
internal sealed class ProcessSpecRunner(WorkQueueConfig config, NodeContext context, TimeProvider time) : IBatchSpecRunner
{
    public const string LogFolder = "tasks";
    private const int TailBytes = 4096;
    private readonly Lazy<bool> _addReporter = new(() => PlaywrightAttempt.HasAddReporter(config.SpecRoot));

    public async Task<RunResult> RunAsync(ClaimedTask claimed, CancellationToken cancellationToken)
    {
        var task = claimed.Task;
        var log = LogPath(task.Key, claimed.Attempt);
        // A Playwright command also writes its JSON report and artifacts into the attempt's own folder.
        var attemptFolder = AttemptFolder.Path(context.RunDirectory, task.Key, claimed.Attempt);
        var expanded = CommandTemplate.Expand(config.CommandFor(task), task, claimed.Attempt);
        var arguments = PlaywrightAttempt.Arguments(expanded, attemptFolder, _addReporter.Value);
        var environment = Environment(claimed);
        PlaywrightAttempt.AddEnvironment(environment, expanded, attemptFolder);
        var ran = await RunProcessAsync(arguments, environment, log, config.Timeout, task.Key, cancellationToken);
        return ran.Result(config.Timeout);
    }

    /// <summary>
    /// Runs the tasks (first attempts of one batch key, see <see cref="PlaywrightBatch"/>) in one invocation with the
    /// timeout of all of them, then gives each its own report (cut from the batch's), log and result. A spec the report
    /// does not show (the runner crashed, or never reached it) is an error: the task is retried alone.
    /// </summary>
    public async Task<IReadOnlyList<RunResult>> RunBatchAsync(IReadOnlyList<ClaimedTask> batch, CancellationToken cancellationToken)
    {
        if (batch.Count == 1) return [await RunAsync(batch[0], cancellationToken)];
        var head = batch[0];
        var command = config.CommandFor(head.Task);
        var batchName = AttemptFolder.Name(head.Task.Key, head.Attempt) + PlaywrightBatch.Suffix;
        var folder = Path.Combine(context.RunDirectory, LogFolder, batchName);
        var log = Path.Combine(context.RunDirectory, LogFolder, batchName + ".log");
        var expanded = CommandTemplate.Expand(command, head.Task, head.Attempt);
        var arguments = PlaywrightAttempt.Arguments(PlaywrightBatch.Arguments(command, expanded, batch.Select(c => c.Task.Spec).ToArray()), folder, _addReporter.Value);
        var environment = Environment(head);
        // The original's variables, one value per task, separated by spaces.
        environment["SPEC"] = string.Join(' ', batch.Select(c => c.Task.Spec));
        environment["TASK_KEY"] = string.Join(' ', batch.Select(c => c.Task.Key));
        PlaywrightAttempt.AddEnvironment(environment, expanded, folder);
        var timeout = config.Timeout * batch.Count;
        var ran = await RunProcessAsync(arguments, environment, log, timeout, head.Task.Key, cancellationToken);
        var whole = ran.Result(timeout);
        var targets = batch.Select(c => (c.Task.Spec, AttemptFolder.Report(context.RunDirectory, c.Task.Key, c.Attempt))).ToArray();
        var outcomes = ran.Forced is null && ran.Code is not null
            ? PlaywrightBatch.Split(Path.Combine(folder, AttemptFolder.ReportFile), config.SpecRoot, targets)
            : targets.Select(_ => (SpecOutcome?)null).ToArray();
        var keys = string.Join(", ", batch.Select(c => c.Task.Key));
        foreach (var claimed in batch)
        {
            CopyLog(log, LogPath(claimed.Task.Key, claimed.Attempt), $"[corral] ran in one Playwright invocation with {keys}; its whole output:\n");
        }

        var testMs = outcomes.Sum(o => o?.TestMs ?? 0);
        // The invocation's time beyond its tests (runner, site and browser start) is shared equally.
        var overhead = Math.Max(0, whole.DurationMs - testMs);
        return batch.Select((claimed, i) =>
        {
            var duration = testMs > whole.DurationMs && testMs > 0
                ? whole.DurationMs * (outcomes[i]?.TestMs ?? 0) / testMs
                : (outcomes[i]?.TestMs ?? 0) + overhead / batch.Count;
            if (whole.Result is AttemptResult.TimedOut || ran.Code is null) return whole with { DurationMs = duration };
            return outcomes[i] switch
            {
                { Tests: > 0, Unexpected: 0 } => new RunResult(AttemptResult.Passed, 0, duration, whole.OutputTail),
                { Tests: > 0 } => new RunResult(AttemptResult.Failed, 1, duration, whole.OutputTail),
                _ => new RunResult(AttemptResult.Error, ran.Code, duration,
                    $"{whole.OutputTail}\n[corral] the batch's report has no result for {claimed.Task.Spec} (exit {ran.Code}); it runs again alone"),
            };
        }).ToArray();
    }

    private string LogPath(string key, int attempt)
    {
        var folder = Path.Combine(context.RunDirectory, LogFolder);
        Directory.CreateDirectory(folder);
        return Path.Combine(folder, $"{key.Replace(':', '_')}.attempt-{attempt.ToString(CultureInfo.InvariantCulture)}.log");
    }

    private static void CopyLog(string from, string to, string header)
    {
        try
        {
            using var target = PrivateFiles.OpenForWriting(to, FileMode.Create);
            target.Write(Encoding.UTF8.GetBytes(header));
            using var source = new FileStream(from, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
            source.CopyTo(target);
        }
        catch (IOException)
        {
            // The batch's own log stays; a task's copy is a convenience.
        }
    }

    /// <summary>How a command's process ended: its exit code, or forced (timed out), or not started (<see cref="Failure"/>).</summary>
    private sealed record ProcessRun(int? Code, AttemptResult? Forced, long DurationMs, string Tail, string? Failure)
    {
        public RunResult Result(TimeSpan timeout)
        {
            if (Failure is not null) return new RunResult(AttemptResult.Error, null, DurationMs, Failure);
            var result = Forced ?? Code switch
            {
                0 => AttemptResult.Passed,
                1 => AttemptResult.Failed,
                _ => AttemptResult.Error,
            };
            var tail = Tail;
            if (Forced == AttemptResult.TimedOut)
            {
                tail += $"{(tail.Length > 0 ? "\n" : "")}[corral] killed after the timeout of {Durations.Format(timeout)}";
            }

            return new RunResult(result, Forced is null ? Code : null, DurationMs, tail);
        }
    }

    private async Task<ProcessRun> RunProcessAsync(IReadOnlyList<string> arguments, Dictionary<string, string> environment, string log, TimeSpan timeout,
        string name, CancellationToken cancellationToken)
    {
        var started = time.GetTimestamp();
        var pid = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        var exited = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);

        // The kernel's parent-death signal follows the thread that spawned: this thread lives until the command has exited.
        var thread = new Thread(() =>
        {
            int child;
            try
            {
                child = PosixSpawn.Start("setpriv", ["--pdeathsig", "KILL", "--", .. arguments], environment, config.SpecRoot, log);
            }
            catch (IOException e)
            {
                pid.TrySetException(e);
                return;
            }

            pid.TrySetResult(child);
            try
            {
                exited.TrySetResult(PosixSpawn.Wait(child));
            }
            catch (IOException e)
            {
                exited.TrySetException(e);
            }
        }) { IsBackground = true, Name = "spec " + name };
        thread.Start();

        int group;
        try
        {
            group = await pid.Task;
        }
        catch (IOException e)
        {
            return new ProcessRun(null, null, 0, "", e.Message);
        }

        AttemptResult? forced = null;
        try
        {
            await exited.Task.WaitAsync(timeout, time, cancellationToken);
        }
        catch (TimeoutException)
        {
            forced = AttemptResult.TimedOut;
        }
        catch (OperationCanceledException)
        {
            PosixSpawn.KillGroup(group);
            await exited.Task;
            throw;
        }

        if (forced is not null) PosixSpawn.KillGroup(group);
        int code;
        try
        {
            code = await exited.Task;
        }
        catch (IOException e)
        {
            PosixSpawn.KillGroup(group);
            return new ProcessRun(null, null, (long)time.GetElapsedTime(started).TotalMilliseconds, "", e.Message);
        }

        // Children that outlived the command (a runner that left a server behind) go with its group.
        PosixSpawn.KillGroup(group);
        var duration = (long)time.GetElapsedTime(started).TotalMilliseconds;
        AttemptLog.Cap(log);
        return new ProcessRun(forced is null ? code : null, forced, duration, Tail(log), null);
    }

    private Dictionary<string, string> Environment(ClaimedTask claimed)
    {
        var environment = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (DictionaryEntry e in System.Environment.GetEnvironmentVariables())
        {
            var name = (string)e.Key;
            // The run's secrets and the node's identity stay with the node: a spec is not a member of the run.
            if (name.StartsWith("CORRAL_", StringComparison.Ordinal)) continue;
            environment[name] = (string?)e.Value ?? "";
        }

        environment["SPEC"] = claimed.Task.Spec;
        environment["BROWSER"] = claimed.Task.Browser;
        environment["VIEWPORT"] = claimed.Task.Viewport;
        environment["TASK_KEY"] = claimed.Task.Key;
        environment["ATTEMPT"] = claimed.Attempt.ToString(CultureInfo.InvariantCulture);
        environment["RUN_ID"] = claimed.RunId;
        return environment;
    }

    private static string Tail(string path)
    {
        try
        {
            using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
            var length = (int)Math.Min(file.Length, TailBytes);
            file.Seek(-length, SeekOrigin.End);
            var buffer = new byte[length];
            file.ReadExactly(buffer);
            var text = Encoding.UTF8.GetString(buffer);
            return length == TailBytes && text.IndexOf('\n') is var cut and >= 0 ? text[(cut + 1)..] : text;
        }
        catch (IOException)
        {
            return "";
        }
    }
}
