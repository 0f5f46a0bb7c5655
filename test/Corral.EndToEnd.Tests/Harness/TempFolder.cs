namespace Corral.EndToEnd.Tests.Harness;

/// <summary>A fresh folder per test (a run's data folder and its topology files), removed afterwards.</summary>
internal sealed class TempFolder : IDisposable
{
    public string Path { get; } = Directory.CreateTempSubdirectory("corral-e2e-").FullName;

    public string Write(string name, string content)
    {
        var file = System.IO.Path.Combine(Path, name);
        File.WriteAllText(file, content);
        return file;
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
            // A node that was just killed may still hold a file for a moment; the OS cleans /tmp.
        }
    }
}
