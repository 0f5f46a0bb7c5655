namespace Corral.Shootout.Tests.Helpers;

/// <summary>Paths in the repository (examples/), found by walking up to the solution file.</summary>
public static class Repo
{
    public static string Root { get; } = FindRoot();

    public static string File(params string[] parts) => Path.Combine([Root, .. parts]);

    private static string FindRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !System.IO.File.Exists(Path.Combine(dir.FullName, "Corral.slnx"))) dir = dir.Parent;
        return dir?.FullName ?? throw new InvalidOperationException("Corral.slnx not found above " + AppContext.BaseDirectory);
    }
}
