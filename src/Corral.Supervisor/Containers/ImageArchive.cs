using System.Formats.Tar;
using System.Security.Cryptography;
using System.Text.Json;

namespace Corral.Supervisor.Containers;

/// <summary>
/// A one-layer image in the archive format <c>docker load</c> reads (<c>docker save</c>'s: <c>manifest.json</c>, the
/// config, the layer). Its config carries a fixed creation time, so the same files give the same image id.
/// </summary>
public sealed record ImageArchive(string Tag, IReadOnlyList<string> Entrypoint, IReadOnlyList<string> Environment, IReadOnlyDictionary<string, string> Labels)
{
    /// <summary>Writes the archive of <paramref name="files"/> to <paramref name="output"/> and returns the image id.</summary>
    public string Write(IEnumerable<ImageFile> files, Stream output)
    {
        var (layer, diffId) = LayerTar.Build(files);
        var config = Config(diffId);
        var id = Convert.ToHexStringLower(SHA256.HashData(config));
        var layerFolder = diffId["sha256:".Length..];

        using var writer = new TarWriter(output, TarEntryFormat.Ustar, leaveOpen: true);
        Add(writer, $"{id}.json", config);
        Add(writer, $"{layerFolder}/layer.tar", layer);
        Add(writer, "manifest.json", Manifest($"{id}.json", $"{layerFolder}/layer.tar"));
        return "sha256:" + id;
    }

    private byte[] Config(string diffId)
    {
        var created = LayerTar.Epoch.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ", System.Globalization.CultureInfo.InvariantCulture);
        return Json(json =>
        {
            json.WriteStartObject();
            json.WriteString("architecture", "amd64");
            json.WriteString("os", "linux");
            json.WriteString("created", created);
            json.WriteStartObject("config");
            WriteStrings(json, "Entrypoint", Entrypoint);
            WriteStrings(json, "Env", Environment);
            json.WriteString("WorkingDir", "/");
            json.WriteStartObject("Labels");
            foreach (var (key, value) in Labels.OrderBy(l => l.Key, StringComparer.Ordinal))
            {
                json.WriteString(key, value);
            }

            json.WriteEndObject();
            json.WriteEndObject();
            json.WriteStartObject("rootfs");
            json.WriteString("type", "layers");
            WriteStrings(json, "diff_ids", [diffId]);
            json.WriteEndObject();
            json.WriteStartArray("history");
            json.WriteStartObject();
            json.WriteString("created", created);
            json.WriteString("created_by", "corral image");
            json.WriteEndObject();
            json.WriteEndArray();
            json.WriteEndObject();
        });
    }

    private byte[] Manifest(string config, string layer) => Json(json =>
    {
        json.WriteStartArray();
        json.WriteStartObject();
        json.WriteString("Config", config);
        WriteStrings(json, "RepoTags", [Tag]);
        WriteStrings(json, "Layers", [layer]);
        json.WriteEndObject();
        json.WriteEndArray();
    });

    private static void WriteStrings(Utf8JsonWriter json, string name, IEnumerable<string> values)
    {
        json.WriteStartArray(name);
        foreach (var value in values)
        {
            json.WriteStringValue(value);
        }

        json.WriteEndArray();
    }

    private static byte[] Json(Action<Utf8JsonWriter> write)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            write(json);
        }

        return buffer.ToArray();
    }

    private static void Add(TarWriter writer, string name, byte[] content)
    {
        using var data = new MemoryStream(content);
        writer.WriteEntry(new UstarTarEntry(TarEntryType.RegularFile, name)
        {
            Mode = ImageFile.Files, ModificationTime = LayerTar.Epoch, UserName = "", GroupName = "", DataStream = data,
        });
    }
}
