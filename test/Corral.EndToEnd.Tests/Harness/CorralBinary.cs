namespace Corral.EndToEnd.Tests.Harness;

/// <summary>Where the built <c>corral</c> executable and the repository's files are.</summary>
internal static class CorralBinary
{
    public static string RepositoryRoot { get; } = FindRoot();

    /// <summary>The variable <c>./test.sh</c> sets to the native binary it published, so these tests run what users run.</summary>
    public const string Variable = "CORRAL_BINARY";

    /// <summary>
    /// The binary under test: <see cref="Variable"/> when set (the native one), otherwise the JIT build next to the
    /// sources, of the test assembly's configuration (Debug or Release), for a developer running <c>dotnet test</c>.
    /// </summary>
    public static string Path { get; } = FromEnvironment() ??
        System.IO.Path.Combine(RepositoryRoot, "src", "Corral", "bin", Configuration(), "net10.0", "corral");

    public static string Example(string name) => System.IO.Path.Combine(RepositoryRoot, "examples", name);

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(System.IO.Path.Combine(dir.FullName, "Corral.slnx")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("cannot find the repository root (Corral.slnx) above " + AppContext.BaseDirectory);
    }

    private static string? FromEnvironment()
    {
        var path = Environment.GetEnvironmentVariable(Variable);
        if (string.IsNullOrEmpty(path))
        {
            return null;
        }

        return File.Exists(path)
            ? System.IO.Path.GetFullPath(path)
            : throw new InvalidOperationException($"{Variable} names '{path}', which does not exist; unset it to test the JIT build");
    }

    private static string Configuration() =>
        AppContext.BaseDirectory.Split(System.IO.Path.DirectorySeparatorChar).Contains("Release") ? "Release" : "Debug";
}
