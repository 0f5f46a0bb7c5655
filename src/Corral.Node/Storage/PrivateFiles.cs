namespace Corral.Node.Storage;

/// <summary>
/// Creates what a run leaves behind readable by its owner only: folders 0700, files 0600. A run's logs and
/// <c>run.json</c> may hold what other users of the machine must not read, and the mode is set when the file is
/// created, so there is no moment in which it is open to them.
/// </summary>
public static class PrivateFiles
{
    public const UnixFileMode OwnerOnlyFolder = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
    public const UnixFileMode OwnerOnlyFile = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    /// <summary>Creates <paramref name="path"/> as 0700 (a missing parent gets the default mode); an existing folder keeps its mode.</summary>
    public static void CreateFolder(string path)
    {
        if (OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(path);
        }
        else
        {
            Directory.CreateDirectory(path, OwnerOnlyFolder);
        }
    }

    /// <summary>Creates <paramref name="path"/> when missing and makes it 0700 whatever its mode was (a folder kept across runs).</summary>
    public static void RestrictFolder(string path)
    {
        Directory.CreateDirectory(path);
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(path, OwnerOnlyFolder);
        }
    }

    /// <summary>Opens <paramref name="path"/> for writing; when it is created it is created 0600.</summary>
    public static FileStream OpenForWriting(string path, FileMode mode, FileShare share = FileShare.Read, FileAccess access = FileAccess.Write,
        int bufferSize = 4096)
    {
        var options = new FileStreamOptions { Mode = mode, Access = access, Share = share, BufferSize = bufferSize };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = OwnerOnlyFile;
        }

        return new FileStream(path, options);
    }
}
