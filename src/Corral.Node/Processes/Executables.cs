namespace Corral.Node.Processes;

/// <summary>The one PATH look-up: where a program named on a command line is, as a shell without a shell would find it.</summary>
public static class Executables
{
    /// <summary>The search path when the environment has none (what a login shell would start with).</summary>
    public const string DefaultPath = "/usr/local/bin:/usr/bin:/bin";

    /// <summary>
    /// The full path of <paramref name="program"/>, or null when it cannot be found or is not executable. A name with a
    /// <c>/</c> is a path (relative ones from <paramref name="folder"/>, else the current folder); a bare name is looked up
    /// on <paramref name="searchPath"/> (null: the process's <c>PATH</c>), first match wins.
    /// </summary>
    public static string? Resolve(string program, string? searchPath = null, string? folder = null)
    {
        if (program.Length == 0)
        {
            return null;
        }

        if (program.Contains('/'))
        {
            var path = Path.GetFullPath(folder is null ? program : Path.Combine(folder, program));
            return IsExecutable(path) ? path : null;
        }

        searchPath ??= Environment.GetEnvironmentVariable("PATH") ?? DefaultPath;
        return searchPath.Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Select(dir => Path.Combine(dir, program))
            .FirstOrDefault(IsExecutable);
    }

    private static bool IsExecutable(string path) =>
        File.Exists(path) && !OperatingSystem.IsWindows() &&
        (File.GetUnixFileMode(path) & (UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute)) != 0;
}
