using Corral.WorkQueue.Config;
using Corral.WorkQueue.Controller;

namespace Corral.WorkQueue.Worker;

/// <summary>
/// Checks a claimed task again before the worker uses it in a path or an argument list. The config reader checked the
/// spec list, but a claim comes back from the store (a Redis another process can write, a database file from an
/// earlier version), so the worker trusts nothing it did not check itself: the key names a log file, the spec a file
/// under the spec root, and every placeholder becomes an argument of a program.
/// </summary>
internal static class ClaimedTaskCheck
{
    /// <summary>Why the task must not run, or null when it may.</summary>
    public static string? Problem(ClaimedTask claimed, WorkQueueConfig config)
    {
        var task = claimed.Task;
        foreach (var (name, value) in new[] { ("key", task.Key), ("spec", task.Spec), ("browser", task.Browser), ("viewport", task.Viewport) })
        {
            if (string.IsNullOrEmpty(value))
            {
                return $"its {name} is empty";
            }

            if (value.Any(char.IsControl))
            {
                return $"its {name} holds a control character";
            }
        }

        if (task.Key.IndexOfAny(['/', '\\']) >= 0 || task.Key is "." or "..")
        {
            return $"its key '{task.Key}' is not a plain name (no '/', '\\', '.' or '..')";
        }

        if (!InsideSpecRoot(task.Spec, config.SpecRoot))
        {
            return $"its spec '{task.Spec}' is not a path inside the spec root {config.SpecRoot}";
        }

        IReadOnlyList<string> arguments;
        try
        {
            arguments = CommandTemplate.Expand(config.Command, task, claimed.Attempt);
        }
        catch (FormatException e)
        {
            return e.Message;
        }

        for (var i = 0; i < arguments.Count; i++)
        {
            // A template argument that starts with '-' is the operator's own option; one that comes to start with '-'
            // only through a placeholder would be read as an option the operator never wrote.
            if (arguments[i].StartsWith('-') && !config.Command[i].StartsWith('-'))
            {
                return $"argument {i + 1} ('{config.Command[i]}') would start with '-' ('{arguments[i]}') and be read as an option";
            }
        }

        return null;
    }

    private static bool InsideSpecRoot(string spec, string specRoot)
    {
        if (Path.IsPathRooted(spec) || spec.Split('/', '\\').Contains(".."))
        {
            return false;
        }

        var root = Path.TrimEndingDirectorySeparator(Path.GetFullPath(specRoot)) + Path.DirectorySeparatorChar;
        return Path.GetFullPath(Path.Combine(root, spec)).StartsWith(root, StringComparison.Ordinal);
    }
}
