using System.Reflection;

namespace Corral.Supervisor.Supervision;

/// <summary>
/// How a node process is started: an executable and the arguments before the role
/// (<c>corral node</c> in production), then <c>&lt;role&gt; [plan args]</c>.
/// </summary>
public sealed record NodeLauncher(string Executable, IReadOnlyList<string> PrefixArgs)
{
    /// <summary>
    /// The running corral binary execs itself: <c>corral node ...</c> (the native binary or the apphost), or
    /// <c>dotnet corral.dll node ...</c> when run through the muxer. The entry assembly's file is found
    /// beside the app (<see cref="AppContext.BaseDirectory"/>): a native binary has no assembly file at all.
    /// </summary>
    public static NodeLauncher ForCurrentProcess()
    {
        var path = Environment.ProcessPath ?? throw new InvalidOperationException("cannot tell which executable is running");
        if (Path.GetFileNameWithoutExtension(path) == "dotnet")
        {
            var name = Assembly.GetEntryAssembly()?.GetName().Name;
            var entry = name is null ? null : Path.Combine(AppContext.BaseDirectory, name + ".dll");
            if (entry is null || !File.Exists(entry))
            {
                throw new InvalidOperationException($"running under 'dotnet' but the entry assembly is not beside the app ({entry})");
            }

            return new NodeLauncher(path, [entry, "node"]);
        }

        return new NodeLauncher(path, ["node"]);
    }

    /// <summary>The full argument list for one node.</summary>
    public IReadOnlyList<string> Arguments(string role, IReadOnlyList<string> args) => [.. PrefixArgs, role, .. args];
}
