using System.Text.Json;

namespace Corral.Supervisor.Supervision;

/// <summary>
/// Keeps <c>&lt;data&gt;/runs/</c> bounded (<c>corral prune</c>, and <c>corral up</c> when a run starts): removes
/// every run folder but the newest <c>keep</c>, never one whose run is still running. A run is running while its
/// <c>control.json</c> exists and the supervisor process it names is alive; a <c>control.json</c> left behind by a
/// supervisor that died protects nothing.
/// </summary>
public static class RunRetention
{
    /// <summary>
    /// What runs of <c>--engine docker</c> whose supervisor died left on Docker (containers, networks, volumes labelled
    /// with the run), removed; one line per run. Nothing when the docker command line is missing or no daemon answers.
    /// </summary>
    public static async Task<IReadOnlyList<string>> SweepDeadDockerRunsAsync()
    {
        try
        {
            return await DockerRunNetwork.PruneDeadRunsAsync();
        }
        catch (InvalidOperationException)
        {
            return [];
        }
    }

    /// <summary>How many runs <c>corral up</c> and <c>corral prune</c> keep unless told otherwise.</summary>
    public const int DefaultKeep = 50;

    /// <summary>Removes the run folders past the newest <paramref name="keep"/> (0 keeps all); a folder that cannot be removed is reported, not thrown.</summary>
    public static PruneResult Prune(string dataDirectory, int keep)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(keep);
        var runs = RunFolder.RunsPath(dataDirectory);
        if (keep == 0 || !Directory.Exists(runs))
        {
            return new PruneResult([], [], keep == 0 ? 0 : Kept(runs));
        }

        // Run ids start with their start time, so ordinal order is start order: the newest come first.
        var all = Directory.GetDirectories(runs)
            .Select(path => Path.GetFileName(path))
            .Where(RunFolder.IsRunId)
            .OrderDescending(StringComparer.Ordinal)
            .ToList();
        var removed = new List<PrunedRun>();
        var failed = new List<string>();
        foreach (var runId in all.Skip(keep))
        {
            if (IsRunning(dataDirectory, runId))
            {
                continue;
            }

            try
            {
                var path = Path.Combine(runs, runId);
                var bytes = SizeOf(path);
                Directory.Delete(path, recursive: true);
                removed.Add(new PrunedRun(runId, bytes));
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                failed.Add($"could not remove run {runId}: {e.Message}");
            }
        }

        return new PruneResult(removed, failed, all.Count - removed.Count);
    }

    /// <summary>
    /// Kills what runs whose supervisor died (SIGKILLed: its nodes died with it) left in their cgroups, daemons that left
    /// their node's session included, and removes those cgroups; one line per run it cleaned. Any data folder's runs:
    /// a run's cgroup names its supervisor, not its folder.
    /// </summary>
    public static Task<IReadOnlyList<string>> SweepDeadRunsAsync() => Cgroup.SweepDeadRunsAsync();

    /// <summary>Whether run <paramref name="runId"/> is running: its <c>control.json</c> names a live supervisor.</summary>
    internal static bool IsRunning(string dataDirectory, string runId)
    {
        ControlFile? control;
        try
        {
            control = RunFolder.Open(dataDirectory, runId).ReadControlFile();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or JsonException)
        {
            // A control file that cannot be read may be a running run's: keep it.
            return true;
        }

        return control switch
        {
            null => false,
            // Written by a version that did not record the supervisor: it cannot be told from a live run, so it is kept.
            { Pid: null } => true,
            { Pid: { } pid } => Signals.IsAlive(pid),
        };
    }

    private static int Kept(string runs) =>
        Directory.Exists(runs) ? Directory.GetDirectories(runs).Count(path => RunFolder.IsRunId(Path.GetFileName(path))) : 0;

    private static long SizeOf(string path) =>
        new DirectoryInfo(path).EnumerateFiles("*", SearchOption.AllDirectories).Sum(file => file.Length);
}

/// <summary>One removed run: its id and how many bytes its files took.</summary>
public sealed record PrunedRun(string RunId, long Bytes);

/// <summary>What <see cref="RunRetention.Prune"/> did: the runs it removed, the ones it could not, and how many runs are left.</summary>
public sealed record PruneResult(IReadOnlyList<PrunedRun> Removed, IReadOnlyList<string> Failures, int Left)
{
    public long Bytes => Removed.Sum(r => r.Bytes);
}
