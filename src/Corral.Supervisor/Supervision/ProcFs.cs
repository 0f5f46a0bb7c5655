using System.Globalization;

namespace Corral.Supervisor.Supervision;

/// <summary>
/// Reading <c>/proc</c>: the pids it lists and a process's <c>stat</c> fields. One parser for the stat line, whose command
/// name may hold spaces and parentheses, shared by liveness, session and start-time look-ups.
/// </summary>
internal static class ProcFs
{
    /// <summary>Every pid listed in <c>/proc</c> now; empty when there is no <c>/proc</c>.</summary>
    public static IEnumerable<int> Pids()
    {
        string[] entries;
        try
        {
            entries = Directory.GetDirectories("/proc");
        }
        catch (IOException)
        {
            yield break;
        }

        foreach (var entry in entries)
        {
            if (int.TryParse(Path.GetFileName(entry), NumberStyles.None, CultureInfo.InvariantCulture, out var pid))
            {
                yield return pid;
            }
        }
    }

    /// <summary>
    /// The fields of <c>/proc/PID/stat</c> after the command name: <c>[0]</c> is the state (field 3 of proc(5)), <c>[3]</c>
    /// the session, <c>[19]</c> the start time. Null when the process is gone or not ours to read.
    /// </summary>
    public static string[]? StatFields(int pid)
    {
        try
        {
            // "pid (comm) state ppid pgrp session ...": comm may hold spaces and parentheses, so split after the last ')'.
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var afterName = stat.LastIndexOf(')');
            return afterName > 0 && afterName + 2 < stat.Length ? stat[(afterName + 2)..].Split(' ') : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}
