namespace Corral.Testing;

/// <summary>A fresh folder under the system temp folder for one test (its data, its files), removed afterwards.</summary>
public sealed class TempFolder : IDisposable
{
    public TempFolder(string prefix = "corral-test-") => Path = Directory.CreateTempSubdirectory(prefix).FullName;

    public string Path { get; }

    public string Combine(params string[] parts) => System.IO.Path.Combine([Path, .. parts]);

    /// <summary>Writes a file in the folder and returns its path.</summary>
    public string Write(string name, string content)
    {
        var file = Combine(name);
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
            // A node that was just killed may still hold a file for a moment; the OS cleans the temp folder.
        }
    }
}
