using System.Diagnostics;

namespace Corral.Hosting.Supervision;

/// <summary>What to run for one process of a node: an executable, its arguments and its environment.</summary>
internal sealed record Launch(string Executable, IReadOnlyList<string> Arguments, IReadOnlyDictionary<string, string> Environment);

/// <summary>
/// One OS process of a node, in its own session (<see cref="ProcessSpawner"/>): its output pumped line by line,
/// SIGTERM to ask it to stop, SIGKILL to its whole session to end it, and once it has ended, whatever it left
/// behind in its session (children, grandchildren that moved to another process group) is killed too.
/// </summary>
internal sealed class NodeProcess : IDisposable
{
    private static readonly TimeSpan OutputDrainTimeout = TimeSpan.FromSeconds(2);

    private readonly Process _process;
    private readonly Task _pumps;

    private NodeProcess(Process process, NodeOutput output)
    {
        _process = process;
        Pid = process.Id;
        Exited = process.WaitForExitAsync();
        _pumps = Task.WhenAll(output.PumpAsync(process.StandardOutput), output.PumpAsync(process.StandardError));
    }

    /// <summary>The process id, which is also its session and process-group id.</summary>
    public int Pid { get; }

    /// <summary>Completes when the process itself has exited (its session may still hold others until <see cref="WaitAsync"/>).</summary>
    public Task Exited { get; }

    public bool HasExited => Exited.IsCompleted;

    /// <summary>Starts <paramref name="launch"/>; throws what <see cref="Process.Start()"/> throws when it cannot.</summary>
    public static async Task<NodeProcess> StartAsync(Launch launch, NodeOutput output)
    {
        var process = await ProcessSpawner.Shared.StartAsync(launch.Executable, launch.Arguments, info =>
        {
            info.RedirectStandardInput = true;
            info.RedirectStandardOutput = true;
            info.RedirectStandardError = true;
            foreach (var (name, value) in launch.Environment)
            {
                info.Environment[name] = value;
            }
        });

        // A node reads nothing from the terminal: give it end-of-file, not the supervisor's input.
        process.StandardInput.Close();
        return new NodeProcess(process, output);
    }

    /// <summary>Asks the process to stop (SIGTERM to it alone: it decides how to drain its own children).</summary>
    public void Terminate() => Signals.Send(Pid, Signals.Term);

    /// <summary>SIGKILL to the process and everything in its session.</summary>
    public void Kill() => Signals.KillSession(Pid);

    /// <summary>Kills the process if it has not exited within <paramref name="grace"/>; true if it had to.</summary>
    public async Task<bool> KillAfterAsync(TimeSpan grace, TimeProvider time)
    {
        try
        {
            await Exited.WaitAsync(grace, time);
            return false;
        }
        catch (TimeoutException)
        {
            Kill();
            return true;
        }
    }

    /// <summary>
    /// Waits for the process to exit, then kills whatever is left in its session (no process outlives its node,
    /// whatever ended it, SIGKILL included) and lets the output pipes drain; returns the exit code.
    /// </summary>
    public async Task<int> WaitAsync()
    {
        await Exited;
        Signals.KillSession(Pid);
        await Task.WhenAny(_pumps, Task.Delay(OutputDrainTimeout));
        return _process.ExitCode;
    }

    public void Dispose() => _process.Dispose();
}
