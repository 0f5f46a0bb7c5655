using System.Formats.Tar;
using System.Security.Cryptography;

namespace Corral.Supervisor.Containers;

/// <summary>
/// Writes an image layer as a tar that depends only on the files' contents: entries sorted by path, every parent folder
/// present, one fixed time, owner root, no host user or group names (ustar has no access or change times to leak).
/// </summary>
public static class LayerTar
{
    /// <summary>The one time stamped on every entry and on the image (the Unix epoch, as reproducible builds use).</summary>
    public static readonly DateTimeOffset Epoch = DateTimeOffset.UnixEpoch;

    /// <summary>Writes <paramref name="files"/> (and the folders above them) to <paramref name="output"/>.</summary>
    public static void Write(IEnumerable<ImageFile> files, Stream output)
    {
        var entries = new SortedDictionary<string, ImageFile>(StringComparer.Ordinal);
        foreach (var file in files)
        {
            if (!file.Path.StartsWith('/') || file.Path.Split('/').Any(part => part is "." or ".."))
            {
                throw new ArgumentException($"an image path must be absolute and plain, not '{file.Path}'", nameof(files));
            }

            var name = file.Path.TrimStart('/').TrimEnd('/');
            entries[name] = file;
            for (var parent = Path.GetDirectoryName(name); !string.IsNullOrEmpty(parent); parent = Path.GetDirectoryName(parent))
            {
                entries.TryAdd(parent, ImageFile.Folder("/" + parent));
            }
        }

        using var writer = new TarWriter(output, TarEntryFormat.Ustar, leaveOpen: true);
        foreach (var (name, file) in entries)
        {
            var entry = new UstarTarEntry(file.IsFolder ? TarEntryType.Directory : TarEntryType.RegularFile, file.IsFolder ? name + "/" : name)
            {
                Mode = file.Mode, ModificationTime = Epoch, Uid = 0, Gid = 0, UserName = "", GroupName = "",
            };
            using Stream? content = file.Source is not null ? File.OpenRead(file.Source)
                : file.Text is not null ? new MemoryStream(System.Text.Encoding.UTF8.GetBytes(file.Text)) : null;
            if (content is not null)
            {
                entry.DataStream = content;
            }

            writer.WriteEntry(entry);
        }
    }

    /// <summary>The layer's bytes and their digest (the image's diff id).</summary>
    public static (byte[] Bytes, string Digest) Build(IEnumerable<ImageFile> files)
    {
        using var buffer = new MemoryStream();
        Write(files, buffer);
        var bytes = buffer.ToArray();
        return (bytes, "sha256:" + Convert.ToHexStringLower(SHA256.HashData(bytes)));
    }
}
