namespace Corral.Supervisor.Containers;

/// <summary>
/// One entry of an image's file system: a folder, a file copied from the host (links followed) or a file with the
/// given text. <see cref="Path"/> is absolute inside the image.
/// </summary>
public sealed record ImageFile(string Path, UnixFileMode Mode, string? Source = null, string? Text = null)
{
    /// <summary>True for a folder.</summary>
    public bool IsFolder => Source is null && Text is null;

    /// <summary>A folder with the usual mode.</summary>
    public static ImageFile Folder(string path, UnixFileMode mode = Directories) => new(path, mode);

    /// <summary>A host file at the same path in the image, keeping its executable bits.</summary>
    public static ImageFile Copy(string source, string? path = null) =>
        new(path ?? source, Executable(source) ? Files | UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute : Files, source);

    private static bool Executable(string source) =>
        !OperatingSystem.IsWindows() && (File.GetUnixFileMode(source) & UnixFileMode.UserExecute) != 0;

    /// <summary>A file with the given text.</summary>
    public static ImageFile Written(string path, string text) => new(path, Files, Text: text);

    /// <summary>rwxr-xr-x</summary>
    public const UnixFileMode Directories = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute |
        UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute;

    /// <summary>rw-r--r--</summary>
    public const UnixFileMode Files = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead;
}
