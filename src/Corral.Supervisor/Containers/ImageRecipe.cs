namespace Corral.Supervisor.Containers;

/// <summary>
/// What goes into an image built <c>FROM scratch</c>: the executable, the libraries the loader resolves for it (and for
/// the libraries beside it that Corral loads, <c>libe_sqlite3.so</c>), OpenSSL, CA certificates, minimal
/// <c>/etc/passwd</c>, <c>/etc/group</c> and <c>/etc/nsswitch.conf</c>, and an empty world-writable <c>/tmp</c>.
/// </summary>
public static class ImageRecipe
{
    /// <summary>Where Corral lives in its image; its libraries sit beside it, where the native binary looks.</summary>
    public const string CorralFolder = "/opt/corral";

    /// <summary>The CA bundle (Debian's path), which .NET finds through <c>SSL_CERT_FILE</c>.</summary>
    public const string CaCertificates = "/etc/ssl/certs/ca-certificates.crt";

    /// <summary>Corral's image: its native binary and the <c>*.so</c> files published beside it.</summary>
    public static async Task<(IReadOnlyList<ImageFile> Files, string Executable)> ForCorralAsync(string binary, CancellationToken cancellationToken)
    {
        var folder = Path.GetDirectoryName(binary)!;
        var beside = Directory.GetFiles(folder, "*.so").Order(StringComparer.Ordinal).ToArray();
        var files = new List<ImageFile> { ImageFile.Copy(binary, $"{CorralFolder}/corral") };
        files.AddRange(beside.Select(library => ImageFile.Copy(library, $"{CorralFolder}/{Path.GetFileName(library)}")));
        files.AddRange(await SystemFilesAsync([binary, .. beside], openSsl: true, cancellationToken));
        return (files, $"{CorralFolder}/corral");
    }

    /// <summary>A program role's image (etcd, redis-server): the host's executable at <c>/usr/local/bin</c>.</summary>
    public static async Task<(IReadOnlyList<ImageFile> Files, string Executable)> ForProgramAsync(string executable, CancellationToken cancellationToken)
    {
        var path = $"/usr/local/bin/{Path.GetFileName(executable)}";
        var files = new List<ImageFile> { ImageFile.Copy(executable, path) };
        files.AddRange(await SystemFilesAsync([executable], openSsl: false, cancellationToken));
        return (files, path);
    }

    /// <summary>The environment every image sets.</summary>
    public static IReadOnlyList<string> Environment(string executable) =>
        [$"PATH={Path.GetDirectoryName(executable)}:/usr/local/bin", $"SSL_CERT_FILE={CaCertificates}"];

    private static async Task<IReadOnlyList<ImageFile>> SystemFilesAsync(IReadOnlyList<string> executables, bool openSsl, CancellationToken cancellationToken)
    {
        var libraries = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var executable in executables)
        {
            libraries.UnionWith(await SharedLibraries.ResolveAsync(executable, cancellationToken));
        }

        if (openSsl)
        {
            var ssl = SharedLibraries.FindOpenSsl([.. libraries]);
            foreach (var library in ssl)
            {
                libraries.UnionWith(await SharedLibraries.ResolveAsync(library, cancellationToken));
                libraries.Add(library);
            }
        }

        var files = libraries.Select(library => ImageFile.Copy(library)).ToList();
        if (File.Exists(CaCertificates))
        {
            files.Add(ImageFile.Copy(CaCertificates));
        }

        files.Add(ImageFile.Written("/etc/passwd", "root:x:0:0:root:/root:/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\n"));
        files.Add(ImageFile.Written("/etc/group", "root:x:0:\nnogroup:x:65534:\n"));
        files.Add(ImageFile.Written("/etc/nsswitch.conf", "hosts: files dns\n"));
        files.Add(ImageFile.Folder("/tmp", UnixFileMode.StickyBit | ImageFile.Directories | UnixFileMode.GroupWrite | UnixFileMode.OtherWrite));
        return files;
    }
}
