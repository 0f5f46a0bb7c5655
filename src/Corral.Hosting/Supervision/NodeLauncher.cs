namespace Corral.Hosting.Supervision;

/// <summary>
/// How a node process is started: an executable and the arguments before the role
/// (<c>corral node</c> in production), then <c>&lt;role&gt; [plan args]</c>.
/// </summary>
public sealed record NodeLauncher(string Executable, IReadOnlyList<string> PrefixArgs)
{
    /// <summary>The running corral binary: <c>corral node ...</c>, or <c>dotnet corral.dll node ...</c> when run through the muxer.</summary>
    public static NodeLauncher ForCurrentProcess()
    {
        var path = Environment.ProcessPath ?? throw new InvalidOperationException("cannot tell which executable is running");
        if (Path.GetFileNameWithoutExtension(path) == "dotnet")
        {
            var entry = System.Reflection.Assembly.GetEntryAssembly()?.Location;
            if (string.IsNullOrEmpty(entry))
            {
                throw new InvalidOperationException("running under 'dotnet' but the entry assembly has no location");
            }

            return new NodeLauncher(path, [entry, "node"]);
        }

        return new NodeLauncher(path, ["node"]);
    }

    /// <summary>The full argument list for one node.</summary>
    public IReadOnlyList<string> Arguments(string role, IReadOnlyList<string> args) => [.. PrefixArgs, role, .. args];
}
