namespace Corral.Bench;

/// <summary>The CPU time a process has used so far, from <c>/proc/&lt;pid&gt;/stat</c> (utime + stime).</summary>
internal static class ProcessCpu
{
    /// <summary>utime + stime of a live process in seconds; 0 once it is gone.</summary>
    public static double Seconds(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            // Fields 14 and 15 of stat(5), counted from the state (field 3) after the command name; the kernel's
            // USER_HZ is 100 on every Linux this runs on.
            return (long.Parse(fields[11]) + long.Parse(fields[12])) / 100.0;
        }
        catch (IOException)
        {
            return 0;
        }
    }

    /// <summary>The summed CPU seconds of <paramref name="pids"/> (those gone count 0).</summary>
    public static double Seconds(IEnumerable<int> pids) => pids.Sum(Seconds);
}
