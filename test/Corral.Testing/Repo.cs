namespace Corral.Testing;

/// <summary>Paths in the repository (examples/, the built binaries), found by walking up from the test binaries to Corral.slnx.</summary>
public static class Repo
{
    public static string Root { get; } = FindRoot();

    public static string File(params string[] parts) => Path.Combine([Root, .. parts]);

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (System.IO.File.Exists(Path.Combine(dir.FullName, "Corral.slnx"))) return dir.FullName;
        }

        throw new InvalidOperationException("cannot find the repository root (Corral.slnx) above " + AppContext.BaseDirectory);
    }
}
