namespace Corral.Bench;

/// <summary>
/// CPU time a process has used so far: utime + stime from <c>/proc/&lt;pid&gt;/stat</c>, the figure the benchmarks divide by
/// the work done in a window (CPU µs per request, item or task) because it is steadier than a rate on a shared machine.
/// One copy for every benchmark: <c>bench/Corral.Bench</c> compiles it, and the counter and work queue benchmarks link it.
/// </summary>
internal static class ProcessCpu
{
    /// <summary>USER_HZ: the unit of the stat fields, 100 on every Linux the benchmarks run on.</summary>
    private const double TicksPerSecond = 100;

    /// <summary>utime + stime of a live process in seconds; 0 once it is gone.</summary>
    public static double Seconds(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            // "pid (comm) state ...": comm may hold spaces, so count from the last ')'. Fields 14 and 15 of proc(5) are
            // utime and stime: [11] and [12] counted from the state (field 3).
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            return (long.Parse(fields[11]) + long.Parse(fields[12])) / TicksPerSecond;
        }
        catch (IOException)
        {
            return 0;
        }
    }

    /// <summary>The sum over several processes (a server's nodes), in seconds.</summary>
    public static double Seconds(IEnumerable<int> pids) => pids.Sum(Seconds);
}
