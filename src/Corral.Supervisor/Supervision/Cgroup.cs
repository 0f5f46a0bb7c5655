using System.Globalization;
using System.Text.RegularExpressions;

namespace Corral.Supervisor.Supervision;

/// <summary>
/// A cgroup v2 folder Corral made so that nothing a node starts outlives it, not even a daemon that left its session:
/// one per run, <c>corral-&lt;run-id&gt;-p&lt;pid&gt;-s&lt;start&gt;</c> beside the supervisor in its own cgroup (the name
/// says which supervisor made it, so a later <c>corral up</c> or <c>corral prune</c> can tell a dead run's from a live
/// one's), and one per node process inside it. Writing 1 to <c>cgroup.kill</c> SIGKILLs every process of a cgroup and
/// of those below it, whatever session or process group each moved to, and an unprivileged process cannot leave it.
/// Where cgroup2 is not mounted or not writable (not root, no delegation) there is none: the session sweep
/// (<see cref="Signals.KillSession"/>) is what remains.
/// </summary>
internal sealed partial class Cgroup
{
    private static readonly TimeSpan EmptyTimeout = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan EmptyPoll = TimeSpan.FromMilliseconds(10);

    private Cgroup(string path) => Path = path;

    /// <summary>The cgroup's folder in the cgroup2 file system.</summary>
    public string Path { get; }

    /// <summary>
    /// Creates run <paramref name="runId"/>'s cgroup, named after this process; null, with the reason in
    /// <paramref name="unavailable"/>, when this kernel or this user cannot have one.
    /// </summary>
    public static Cgroup? CreateForRun(string runId, out string? unavailable)
    {
        unavailable = null;
        if (OwnFolder() is not { } parent)
        {
            unavailable = "no cgroup2 file system holds this process's cgroup";
            return null;
        }

        if (!File.Exists(System.IO.Path.Combine(parent, "cgroup.procs")))
        {
            unavailable = $"{parent} is not a cgroup2 folder";
            return null;
        }

        var self = Environment.ProcessId;
        if (StartTimeOf(self) is not { } start)
        {
            unavailable = "this process's start time cannot be read";
            return null;
        }

        var run = new Cgroup(System.IO.Path.Combine(parent, $"corral-{runId}-p{self}-s{start}"));
        if (!run.TryCreate(out unavailable))
        {
            return null;
        }

        if (!File.Exists(System.IO.Path.Combine(run.Path, "cgroup.kill")))
        {
            run.TryRemove();
            unavailable = "this kernel has no cgroup.kill (Linux 5.14 or later has)";
            return null;
        }

        return run;
    }

    /// <summary>A cgroup named <paramref name="name"/> inside this one, for one node process; null, with the reason, when it cannot be made.</summary>
    public Cgroup? CreateChild(string name, out string? problem)
    {
        var child = new Cgroup(System.IO.Path.Combine(Path, name));
        return child.TryCreate(out problem) ? child : null;
    }

    /// <summary>
    /// Moves process <paramref name="pid"/> into this cgroup; what it starts from then on is born in it. False when the
    /// kernel refuses (no permission over the cgroup it is in) or the process is gone.
    /// </summary>
    public bool Adopt(int pid)
    {
        try
        {
            File.WriteAllText(System.IO.Path.Combine(Path, "cgroup.procs"), pid.ToString(CultureInfo.InvariantCulture));
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    /// <summary>Every process in this cgroup and below it, at this moment.</summary>
    public IReadOnlyList<int> Processes()
    {
        var pids = new List<int>();
        try
        {
            foreach (var folder in Directory.EnumerateDirectories(Path, "*", SearchOption.AllDirectories).Prepend(Path))
            {
                foreach (var line in File.ReadLines(System.IO.Path.Combine(folder, "cgroup.procs")))
                {
                    if (int.TryParse(line, NumberStyles.None, CultureInfo.InvariantCulture, out var pid))
                    {
                        pids.Add(pid);
                    }
                }
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Removed meanwhile: nothing is in it.
        }

        return pids;
    }

    /// <summary>SIGKILL to every process in this cgroup and below it, at once and by the kernel (no pid is read, none can be stale).</summary>
    public void Kill()
    {
        try
        {
            File.WriteAllText(System.IO.Path.Combine(Path, "cgroup.kill"), "1");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Removed already (a concurrent sweep): nothing is left to kill.
        }
    }

    /// <summary>
    /// Kills whatever is still in this cgroup, waits (bounded) until the kernel reports it empty, and removes it and the
    /// cgroups below it; false when a process is still in it after the wait (it stays, for the next sweep).
    /// </summary>
    public async Task<bool> KillAndRemoveAsync()
    {
        Kill();
        var waited = TimeSpan.Zero;
        // A SIGKILLed process still has to run its exit; cgroup.events says when the last one has.
        while (IsPopulated() && waited < EmptyTimeout)
        {
            await Task.Delay(EmptyPoll);
            waited += EmptyPoll;
        }

        return TryRemove();
    }

    /// <summary>
    /// Finds the cgroups of runs whose supervisor is gone (SIGKILLed: its nodes died with it, but a daemon a node started
    /// may live on in the run's cgroup), kills what is left in each and removes it; one line per run it cleaned.
    /// </summary>
    public static async Task<IReadOnlyList<string>> SweepDeadRunsAsync()
    {
        var lines = new List<string>();
        if (OwnFolder() is not { } parent)
        {
            return lines;
        }

        string[] folders;
        try
        {
            folders = Directory.GetDirectories(parent, "corral-*");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return lines;
        }

        foreach (var folder in folders)
        {
            var match = RunFolderName().Match(System.IO.Path.GetFileName(folder));
            if (!match.Success || !int.TryParse(match.Groups["pid"].Value, CultureInfo.InvariantCulture, out var pid) ||
                !long.TryParse(match.Groups["start"].Value, CultureInfo.InvariantCulture, out var start))
            {
                continue;
            }

            if (Signals.IsAlive(pid) && StartTimeOf(pid) == start)
            {
                continue;
            }

            var run = new Cgroup(folder);
            var left = run.Processes().Count;
            var removed = await run.KillAndRemoveAsync();
            var killed = left == 0 ? "nothing was left in it" : $"killed {left} process{(left == 1 ? "" : "es")} left in it";
            lines.Add(removed
                ? $"run {match.Groups["run"].Value} ended without its supervisor (pid {pid}): {killed} and removed its cgroup {folder}"
                : $"run {match.Groups["run"].Value} ended without its supervisor (pid {pid}): could not empty its cgroup {folder}; the next sweep tries again");
        }

        return lines;
    }

    private bool TryCreate(out string? problem)
    {
        problem = null;
        try
        {
            Directory.CreateDirectory(Path);
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            problem = $"cannot create {Path}: {e.Message}";
            return false;
        }
    }

    private bool IsPopulated()
    {
        try
        {
            return File.ReadLines(System.IO.Path.Combine(Path, "cgroup.events")).Contains("populated 1");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    /// <summary>Removes the cgroups below this one, then this one (a cgroup's files go with its folder; only rmdir works).</summary>
    private bool TryRemove()
    {
        try
        {
            foreach (var child in Directory.GetDirectories(Path, "*", SearchOption.AllDirectories).OrderByDescending(p => p.Length))
            {
                Directory.Delete(child);
            }

            Directory.Delete(Path);
            return true;
        }
        catch (DirectoryNotFoundException)
        {
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    /// <summary>This process's cgroup2 folder, or null where there is none.</summary>
    private static string? OwnFolder() => FolderOf("self");

    /// <summary>
    /// The cgroup2 folder of <paramref name="process"/> (a pid, or <c>self</c>): its path from <c>/proc/PID/cgroup</c> (the
    /// <c>0::</c> line, the only one on a pure v2 host, one of several on a hybrid one) under the cgroup2 mount from
    /// <c>/proc/self/mountinfo</c>; null when it has none, is gone, or is outside this process's view.
    /// </summary>
    internal static string? FolderOf(string process)
    {
        try
        {
            var own = File.ReadLines($"/proc/{process}/cgroup").FirstOrDefault(line => line.StartsWith("0::", StringComparison.Ordinal))?[3..];
            if (own is null || !own.StartsWith('/'))
            {
                return null;
            }

            foreach (var line in File.ReadLines("/proc/self/mountinfo"))
            {
                // "id parent major:minor root mount-point options [optional...] - fstype source super-options"
                var fields = line.Split(' ');
                var separator = Array.IndexOf(fields, "-");
                if (separator < 5 || separator + 1 >= fields.Length || fields[separator + 1] != "cgroup2")
                {
                    continue;
                }

                var root = Unescape(fields[3]).TrimEnd('/');
                if (own == root || own.StartsWith(root + "/", StringComparison.Ordinal))
                {
                    return Unescape(fields[4]).TrimEnd('/') + own[root.Length..].TrimEnd('/');
                }
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // No /proc: no cgroup either.
        }

        return null;
    }

    /// <summary>mountinfo writes a space, tab, newline and backslash in a path as octal escapes.</summary>
    private static string Unescape(string field) =>
        field.Replace("\\040", " ").Replace("\\011", "\t").Replace("\\012", "\n").Replace("\\134", "\\");

    /// <summary>When <paramref name="pid"/> started, in clock ticks since boot (field 22 of its stat): with the pid, it names one process for good.</summary>
    private static long? StartTimeOf(int pid) =>
        ProcFs.StatFields(pid) is { Length: > 19 } fields && long.TryParse(fields[19], NumberStyles.None, CultureInfo.InvariantCulture, out var start) ? start : null;

    [GeneratedRegex(@"^corral-(?<run>.+)-p(?<pid>[0-9]+)-s(?<start>[0-9]+)$")]
    private static partial Regex RunFolderName();
}
