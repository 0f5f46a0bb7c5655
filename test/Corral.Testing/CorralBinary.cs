namespace Corral.Testing;

/// <summary>Where the built <c>corral</c> executable and the repository's files are.</summary>
public static class CorralBinary
{
    public static string RepositoryRoot => Repo.Root;

    /// <summary>The variable <c>./test.sh</c> sets to the native binary it published, so these tests run what users run.</summary>
    public const string Variable = "CORRAL_BINARY";

    /// <summary>
    /// The binary under test: <see cref="Variable"/> when set (the native one), otherwise the JIT build next to the
    /// sources, of the test assembly's configuration (Debug or Release), for a developer running <c>dotnet test</c>.
    /// </summary>
    public static string Path { get; } = FromEnvironment() ??
        System.IO.Path.Combine(RepositoryRoot, "src", "Corral", "bin", Configuration(), "net10.0", "corral");

    public static string Example(string name) => System.IO.Path.Combine(RepositoryRoot, "examples", name);

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
