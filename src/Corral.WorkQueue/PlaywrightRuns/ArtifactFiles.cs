namespace Corral.WorkQueue.PlaywrightRuns;

/// <summary>
/// The files the reporter may serve under <c>/artifacts/</c>: only regular files inside the run's <c>tasks/</c> folder
/// (attempt logs, reports, traces, screenshots), reached without a symbolic link. The rest of the run folder holds the
/// run's control credentials, so a path that leaves <c>tasks/</c> by <c>..</c>, an absolute path or a link is refused.
/// </summary>
internal static class ArtifactFiles
{
    public const string Route = "/artifacts/";

    /// <summary>The reporter URL of a file Playwright wrote, or null when it is not under the run's tasks folder.</summary>
    public static string? Url(string runDirectory, string file)
    {
        var root = Root(runDirectory);
        var full = Path.GetFullPath(file);
        if (!full.StartsWith(root + Path.DirectorySeparatorChar, StringComparison.Ordinal)) return null;
        var relative = Path.GetRelativePath(Path.GetFullPath(runDirectory), full);
        return Route + string.Join('/', relative.Split(Path.DirectorySeparatorChar).Select(Uri.EscapeDataString));
    }

    /// <summary>The full path of <c>/artifacts/&lt;relative&gt;</c>, or null when it is not a servable file.</summary>
    public static string? Resolve(string runDirectory, string relative)
    {
        if (relative.Length == 0 || relative.Length > 4096 || relative.Contains('\0') || relative.Contains('\\') || Path.IsPathRooted(relative)) return null;
        var segments = relative.Split('/');
        if (segments.Any(s => s is "" or "." or "..")) return null;
        var run = Path.GetFullPath(runDirectory);
        var root = Root(runDirectory);
        var full = Path.GetFullPath(Path.Combine(run, relative));
        if (!full.StartsWith(root + Path.DirectorySeparatorChar, StringComparison.Ordinal) || !File.Exists(full)) return null;
        // No link anywhere from the tasks folder down: a link could point anywhere.
        for (var at = full; at.Length > root.Length; at = Path.GetDirectoryName(at)!)
        {
            if (new FileInfo(at).LinkTarget is not null) return null;
        }

        return full;
    }

    private static string Root(string runDirectory) => Path.Combine(Path.GetFullPath(runDirectory), AttemptFolder.Tasks);
}
