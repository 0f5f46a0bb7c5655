namespace Corral.Node.Security;

/// <summary>
/// How a node receives its credential: a private file (0600, in a 0700 folder) whose path is in its environment, read
/// and removed by the node as it starts. The credential itself is never in an environment or argv, where the node's
/// children and (for argv) every local user could read it. The file holds the credential on its first line and the
/// run's public key on its second, so a node started by hand needs this one file.
/// </summary>
public static class CredentialFile
{
    public const UnixFileMode OwnerOnlyFile = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    public const UnixFileMode OwnerOnlyFolder = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;

    /// <summary>Writes a credential file, created 0600 (never open to others, not even for a moment); it must not exist yet.</summary>
    public static void Write(string path, string credential, string publicKey)
    {
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Share = FileShare.None };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = OwnerOnlyFile;
        }

        using var stream = new FileStream(path, options);
        using var writer = new StreamWriter(stream);
        writer.Write(credential + "\n" + publicKey + "\n");
    }

    /// <summary>
    /// Reads a credential file and removes it. Throws <see cref="InvalidOperationException"/> with what is wrong when it
    /// is missing, empty, or readable by others (a credential that others could have read is not used).
    /// </summary>
    public static (string Credential, string? PublicKey) ReadAndDelete(string path)
    {
        string text;
        try
        {
            if (!OperatingSystem.IsWindows() && (File.GetUnixFileMode(path) & ~OwnerOnlyFile) != 0)
            {
                throw new InvalidOperationException($"the credential file {path} is readable by others: it must be 0600 (chmod 600 {path})");
            }

            text = File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new InvalidOperationException($"cannot read the credential file {path}: {e.Message}", e);
        }
        finally
        {
            TryDelete(path);
        }

        var lines = text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (lines.Length == 0)
        {
            throw new InvalidOperationException($"the credential file {path} is empty: expected the credential on its first line");
        }

        return (lines[0], lines.Length > 1 ? lines[1] : null);
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // A file we could not remove (a read-only folder of a by-hand node) is left to its owner.
        }
    }
}
