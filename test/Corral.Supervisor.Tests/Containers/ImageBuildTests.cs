using System.Formats.Tar;
using System.Text.Json;
using Corral.Supervisor.Containers;

namespace Corral.Supervisor.Tests.Containers;

/// <summary>An image built from the same files is the same image: layer bytes and image id depend on contents only.</summary>
public sealed class ImageBuildTests : IDisposable
{
    private readonly TempFolder _folder = new();

    [Fact]
    public void Ldd_output_gives_the_library_paths_sorted_without_the_vdso()
    {
        const string output = """
                linux-vdso.so.1 (0x00007ffc8a5f1000)
                libm.so.6 => /lib/x86_64-linux-gnu/libm.so.6 (0x00007f1c2b0e0000)
                libc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007f1c2ae00000)
                /lib64/ld-linux-x86-64.so.2 (0x00007f1c2b1d0000)
            """;

        Assert.Equal(["/lib/x86_64-linux-gnu/libc.so.6", "/lib/x86_64-linux-gnu/libm.so.6", "/lib64/ld-linux-x86-64.so.2"],
            SharedLibraries.Parse(output));
    }

    [Fact]
    public void A_library_the_host_lacks_is_an_error_naming_it()
    {
        var error = Assert.Throws<InvalidOperationException>(() => SharedLibraries.Parse("\tlibssl.so.3 => not found\n"));
        Assert.Contains("libssl.so.3", error.Message);
    }

    [Fact]
    public void The_same_files_touched_at_another_time_give_the_same_layer_and_image_id()
    {
        var binary = Path.Combine(_folder.Path, "tool");
        File.WriteAllText(binary, "#!/bin/true\n");
        File.SetLastWriteTimeUtc(binary, new DateTime(2020, 1, 1, 0, 0, 0, DateTimeKind.Utc));
        var first = Build(binary);

        File.SetLastWriteTimeUtc(binary, new DateTime(2026, 6, 1, 0, 0, 0, DateTimeKind.Utc));
        var second = Build(binary);

        Assert.Equal(first.Id, second.Id);
        Assert.Equal(first.Bytes, second.Bytes);
        File.AppendAllText(binary, "changed\n");
        Assert.NotEqual(first.Id, Build(binary).Id);
    }

    [Fact]
    public void The_layer_lists_parents_first_in_order_with_one_time_and_a_sticky_tmp()
    {
        var binary = Path.Combine(_folder.Path, "tool");
        File.WriteAllText(binary, "x");
        var (bytes, _) = LayerTar.Build([ImageFile.Copy(binary, "/opt/corral/corral"), ImageFile.Written("/etc/passwd", "root:x:0:0::/:/x\n"),
            ImageFile.Folder("/tmp", UnixFileMode.StickyBit | ImageFile.Directories | UnixFileMode.OtherWrite | UnixFileMode.GroupWrite)]);

        var entries = Entries(new MemoryStream(bytes));

        Assert.Equal(["etc/", "etc/passwd", "opt/", "opt/corral/", "opt/corral/corral", "tmp/"], entries.Select(e => e.Name));
        Assert.All(entries, e => Assert.Equal(DateTimeOffset.UnixEpoch, e.ModificationTime));
        Assert.True(entries.Single(e => e.Name == "tmp/").Mode.HasFlag(UnixFileMode.StickyBit | UnixFileMode.OtherWrite));
    }

    [Fact]
    public void The_archive_names_its_tag_config_and_layer_for_docker_load()
    {
        var binary = Path.Combine(_folder.Path, "tool");
        File.WriteAllText(binary, "x");
        using var archive = new MemoryStream();
        var id = new ImageArchive("corral:9.9.9", ["/opt/corral/corral"], ["PATH=/opt/corral"], new Dictionary<string, string>())
            .Write([ImageFile.Copy(binary, "/opt/corral/corral")], archive);

        archive.Position = 0;
        var entries = Entries(archive);
        using var manifest = JsonDocument.Parse(entries.Single(e => e.Name == "manifest.json").Content);
        var image = manifest.RootElement[0];
        Assert.Equal("corral:9.9.9", image.GetProperty("RepoTags")[0].GetString());
        Assert.Equal($"{id["sha256:".Length..]}.json", image.GetProperty("Config").GetString());
        Assert.Contains(entries, e => e.Name == image.GetProperty("Layers")[0].GetString());
    }

    private (string Id, byte[] Bytes) Build(string binary)
    {
        using var archive = new MemoryStream();
        var id = new ImageArchive("t:1", ["/tool"], [], new Dictionary<string, string>()).Write([ImageFile.Copy(binary, "/tool")], archive);
        return (id, archive.ToArray());
    }

    private static List<(string Name, DateTimeOffset ModificationTime, UnixFileMode Mode, byte[] Content)> Entries(Stream tar)
    {
        var entries = new List<(string, DateTimeOffset, UnixFileMode, byte[])>();
        using var reader = new TarReader(tar);
        while (reader.GetNextEntry() is { } entry)
        {
            using var content = new MemoryStream();
            entry.DataStream?.CopyTo(content);
            entries.Add((entry.Name, entry.ModificationTime, entry.Mode, content.ToArray()));
        }

        return entries;
    }

    public void Dispose() => _folder.Dispose();
}
