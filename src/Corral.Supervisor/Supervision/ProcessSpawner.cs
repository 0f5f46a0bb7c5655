using System.Collections.Concurrent;
using System.ComponentModel;
using System.Diagnostics;
using System.Runtime.InteropServices;
using Corral.Node.Processes;

namespace Corral.Supervisor.Supervision;

/// <summary>
/// Starts child processes so that they can never outlive this process: each runs in its own session and
/// process group (<c>setsid</c>, so a terminal's Ctrl+C reaches only the supervisor, and the group can be
/// killed as a whole) with <c>setpriv --pdeathsig KILL</c>, so the kernel kills it when its parent dies.
/// </summary>
/// <remarks>
/// The kernel's parent-death signal follows the parent <em>thread</em> that forked, not the process: a child
/// started from a thread-pool thread would be killed whenever that thread retires. Every start therefore
/// happens on one dedicated thread that lives as long as the process.
/// </remarks>
internal sealed class ProcessSpawner
{
    /// <summary>The process-wide spawner; its thread never ends, so its children die only with the process.</summary>
    public static ProcessSpawner Shared { get; } = new();

    private readonly BlockingCollection<(ProcessStartInfo Info, TaskCompletionSource<Process> Started)> _requests = new();

    private ProcessSpawner()
    {
        var thread = new Thread(Serve) { IsBackground = true, Name = "corral-spawner" };
        thread.Start();
    }

    /// <summary>
    /// Starts <paramref name="executable"/> with <paramref name="arguments"/> (no shell) wrapped in
    /// <c>setsid setpriv --pdeathsig KILL --</c>. The returned process's id is also its process-group id.
    /// </summary>
    public Task<Process> StartAsync(string executable, IEnumerable<string> arguments, Action<ProcessStartInfo>? configure = null)
    {
        var info = new ProcessStartInfo("setsid") { UseShellExecute = false };
        foreach (var part in (IEnumerable<string>)["setpriv", "--pdeathsig", "KILL", "--", executable, .. arguments])
        {
            info.ArgumentList.Add(part);
        }

        configure?.Invoke(info);
        var started = new TaskCompletionSource<Process>(TaskCreationOptions.RunContinuationsAsynchronously);
        _requests.Add((info, started));
        return started.Task;
    }

    /// <summary>Whether <c>setsid</c> and <c>setpriv</c> (util-linux) can be found on PATH.</summary>
    public static string? MissingTool() => new[] { "setsid", "setpriv" }.FirstOrDefault(tool => Executables.Resolve(tool) is null);

    private void Serve()
    {
        foreach (var (info, started) in _requests.GetConsumingEnumerable())
        {
            try
            {
                started.SetResult(Process.Start(info) ?? throw new InvalidOperationException($"could not start {info.FileName}"));
            }
            catch (Exception e) when (e is Win32Exception or InvalidOperationException or IOException)
            {
                started.SetException(e);
            }
        }
    }
}

/// <summary>POSIX signals sent with libc's <c>kill</c>, to one process or to a whole process group, and the session sweep.</summary>
internal static class Signals
{
    public const int Term = 15;
    public const int Kill = 9;

    /// <summary>Sends <paramref name="signal"/> to one process; false if it no longer exists.</summary>
    public static bool Send(int pid, int signal) => pid > 0 && kill(pid, signal) == 0;

    /// <summary>Sends <paramref name="signal"/> to every process of the group <paramref name="pgid"/>; false if none is left.</summary>
    public static bool SendToGroup(int pgid, int signal) => pgid > 1 && kill(-pgid, signal) == 0;

    /// <summary>
    /// SIGKILL to every live process of session <paramref name="sid"/> (a node's process started with <c>setsid</c> has
    /// its pid as session id): its group, and descendants that moved to a group of their own but kept the session.
    /// Repeats while it finds any, so one that forked meanwhile goes too. A process that started a new session of
    /// its own (a daemon) cannot be found this way. Returns how many were signalled.
    /// </summary>
    public static int KillSession(int sid)
    {
        if (sid <= 1)
        {
            return 0;
        }

        SendToGroup(sid, Kill);
        var killed = 0;
        for (var pass = 0; pass < 10; pass++)
        {
            var found = 0;
            foreach (var pid in SessionMembers(sid))
            {
                // Still in the session once its pidfd is open: then the pidfd is that process's, whoever takes the pid later.
                using var member = ProcessHandle.Open(pid, () => SessionOf(pid) == sid);
                if (member.Signal(Kill))
                {
                    found++;
                }
            }

            if (found == 0)
            {
                break;
            }

            killed += found;
        }

        return killed;
    }

    /// <summary>Live (not zombie) processes whose session id is <paramref name="sid"/>, from <c>/proc/*/stat</c>.</summary>
    public static IReadOnlyList<int> SessionMembers(int sid)
    {
        var self = Environment.ProcessId;
        return [.. ProcFs.Pids().Where(pid => pid != self && SessionOf(pid) == sid)];
    }

    /// <summary>The session of live (not zombie) process <paramref name="pid"/>; null when it is gone or a zombie.</summary>
    private static int? SessionOf(int pid) =>
        ProcFs.StatFields(pid) is { Length: > 3 } fields && IsLiveState(fields[0]) && int.TryParse(fields[3], out var session) ? session : null;

    /// <summary>Whether a process exists and is not a zombie (a zombie has exited; it only waits to be reaped).</summary>
    public static bool IsAlive(int pid) => ProcFs.StatFields(pid) is [var state, ..] && IsLiveState(state);

    private static bool IsLiveState(string state) => state is not ("Z" or "X");

    // DllImport, not LibraryImport: the signature is blittable and needs no unsafe code in this project.
    [DllImport("libc", SetLastError = true)]
    private static extern int kill(int pid, int sig);
}
