using System.Text.Json;
using System.Text.Json.Serialization;

namespace Corral.Node.Storage;

/// <summary>How hard a store's commit waits for the disk before a write is acknowledged (topology key <c>durability</c>).</summary>
[JsonConverter(typeof(DurabilityJsonConverter))]
public enum Durability
{
    /// <summary>WAL with <c>synchronous=NORMAL</c>: a commit is in the WAL, in the OS's hands, before it is acknowledged; it survives SIGKILL of any process.</summary>
    Sync,

    /// <summary>WAL with <c>synchronous=FULL</c>: every commit is fsynced, so it also survives a power cut.</summary>
    Fsync,

    /// <summary>The counter only: a write is acknowledged once it is in memory and persisted every interval (as <see cref="Sync"/>).</summary>
    Periodic,
}

/// <summary>
/// Writes a <see cref="Durability"/> as the word a topology writes (<c>sync</c>, <c>fsync</c>, <c>periodic</c>, as the
/// counter did) and reads any case and the old names (<c>Full</c>, <c>Normal</c>, <c>Sync</c>): a shootout run recorded
/// in its store before the rename resumes.
/// </summary>
public sealed class DurabilityJsonConverter : JsonConverter<Durability>
{
    public override Durability Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        var text = reader.TokenType == JsonTokenType.String ? reader.GetString() : null;
        if (text is not null && Durabilities.TryParse(text.ToLowerInvariant(), out var durability, out _)) return durability;
        throw new JsonException($"durability must be one of {string.Join(", ", Durabilities.Names)}, got {text ?? reader.TokenType.ToString()}");
    }

    public override void Write(Utf8JsonWriter writer, Durability value, JsonSerializerOptions options) => writer.WriteStringValue(value.Name());
}

/// <summary>The words of <see cref="Durability"/> as written in a topology, and the old spellings still read.</summary>
public static class Durabilities
{
    /// <summary>Every name, in the order they are listed to a person.</summary>
    public static readonly IReadOnlyList<string> Names = ["sync", "fsync", "periodic"];

    /// <summary>Old spellings and the names that replaced them (the shootout said <c>full | normal</c>).</summary>
    public static readonly IReadOnlyDictionary<string, Durability> Aliases = new Dictionary<string, Durability>(StringComparer.Ordinal)
    {
        ["full"] = Durability.Fsync,
        ["normal"] = Durability.Sync,
    };

    /// <summary>The word a topology writes for <paramref name="durability"/>.</summary>
    public static string Name(this Durability durability) => durability switch
    {
        Durability.Fsync => "fsync",
        Durability.Periodic => "periodic",
        _ => "sync",
    };

    /// <summary>Reads a name or an old spelling; <paramref name="alias"/> is set when the text was an old spelling.</summary>
    public static bool TryParse(string text, out Durability durability, out bool alias)
    {
        alias = false;
        switch (text)
        {
            case "sync":
                durability = Durability.Sync;
                return true;
            case "fsync":
                durability = Durability.Fsync;
                return true;
            case "periodic":
                durability = Durability.Periodic;
                return true;
        }

        alias = Aliases.TryGetValue(text, out durability);
        return alias;
    }
}
