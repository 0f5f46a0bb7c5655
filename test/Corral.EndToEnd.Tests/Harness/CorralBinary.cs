namespace Corral.EndToEnd.Tests.Harness;

/// <summary>Where the built <c>corral</c> executable and the repository's files are.</summary>
internal static class CorralBinary
{
    public static string RepositoryRoot { get; } = FindRoot();

    /// <summary>The test assembly's configuration (Debug or Release) decides which build of corral runs.</summary>
    public static string Path { get; } = System.IO.Path.Combine(RepositoryRoot, "src", "Corral", "bin", Configuration(), "net10.0", "corral");

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

    private static string Configuration() =>
        AppContext.BaseDirectory.Split(System.IO.Path.DirectorySeparatorChar).Contains("Release") ? "Release" : "Debug";
}
