using System.Collections;
using System.Globalization;
using System.Text;
using Corral.Node.Nodes;
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
internal sealed class ProcessSpecRunner(WorkQueueConfig config, NodeContext context, TimeProvider time) : ISpecRunner
{
    public const string LogFolder = "tasks";
    private const int TailBytes = 4096;
    private readonly Lazy<bool> _addReporter = new(() => PlaywrightAttempt.HasAddReporter(config.SpecRoot));

    public async Task<RunResult> RunAsync(ClaimedTask claimed, CancellationToken cancellationToken)
    {
        var task = claimed.Task;
        var folder = Path.Combine(context.RunDirectory, LogFolder);
        Directory.CreateDirectory(folder);
        var log = Path.Combine(folder, $"{task.Key.Replace(':', '_')}.attempt-{claimed.Attempt.ToString(CultureInfo.InvariantCulture)}.log");
        // A Playwright command also writes its JSON report and artifacts into the attempt's own folder.
        var attemptFolder = AttemptFolder.Path(context.RunDirectory, task.Key, claimed.Attempt);
        var expanded = CommandTemplate.Expand(config.CommandFor(task), task, claimed.Attempt);
        var arguments = PlaywrightAttempt.Arguments(expanded, attemptFolder, _addReporter.Value);
        var environment = Environment(claimed);
        PlaywrightAttempt.AddEnvironment(environment, expanded, attemptFolder);
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
        }) { IsBackground = true, Name = "spec " + task.Key };
        thread.Start();

        int group;
        try
        {
            group = await pid.Task;
        }
        catch (IOException e)
        {
            return new RunResult(AttemptResult.Error, null, 0, e.Message);
        }

        AttemptResult? forced = null;
        try
        {
            await exited.Task.WaitAsync(config.Timeout, time, cancellationToken);
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
            return new RunResult(AttemptResult.Error, null, (long)time.GetElapsedTime(started).TotalMilliseconds, e.Message);
        }

        // Children that outlived the command (a runner that left a server behind) go with its group.
        PosixSpawn.KillGroup(group);
        var duration = (long)time.GetElapsedTime(started).TotalMilliseconds;
        var result = forced ?? code switch
        {
            0 => AttemptResult.Passed,
            1 => AttemptResult.Failed,
            _ => AttemptResult.Error,
        };
        AttemptLog.Cap(log);
        var tail = Tail(log);
        if (forced == AttemptResult.TimedOut)
        {
            tail += $"{(tail.Length > 0 ? "\n" : "")}[corral] killed after the timeout of {Durations.Format(config.Timeout)}";
        }

        return new RunResult(result, forced is null ? code : null, duration, tail);
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
