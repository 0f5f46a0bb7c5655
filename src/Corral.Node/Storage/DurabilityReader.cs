using Corral.Node.Topology;

namespace Corral.Node.Storage;

/// <summary>Reads the <c>durability</c> key of a topology in the one vocabulary every app shares.</summary>
public static class DurabilityReader
{
    /// <summary>
    /// Reads <paramref name="key"/> as one of <paramref name="accepted"/>; null when absent or wrong (the error, with the file
    /// position and the valid values, is in the reader's diagnostics). With <paramref name="oldNames"/> an old spelling
    /// (<c>full</c>, <c>normal</c>) is read as its new name, with a warning that names it.
    /// </summary>
    public static Durability? OptionalDurability(this MappingReader reader, string key, IReadOnlyList<Durability> accepted, bool oldNames = false)
    {
        var node = reader.Node(key);
        if (node is null || node is TopologyScalar { IsNull: true }) return null;
        var valid = string.Join(", ", accepted.Select(d => d.Name()));
        if (node is not TopologyScalar scalar || !Durabilities.TryParse(scalar.Value, out var durability, out var alias) || (alias && !oldNames))
        {
            reader.Diagnostics.Error(node, $"{reader.Name(key)} must be one of {valid}, got {MappingReader.Show(node)}");
            return null;
        }

        if (!accepted.Contains(durability))
        {
            reader.Diagnostics.Error(node, $"{reader.Name(key)} must be one of {valid}, got '{scalar.Value}' ({durability.Name()} is not available for this app)");
            return null;
        }

        if (alias)
        {
            reader.Diagnostics.Warn(node, $"{reader.Name(key)}: '{scalar.Value}' is the old name of '{durability.Name()}' and is read as it; write {reader.Name(key)}: {durability.Name()}");
        }

        return durability;
    }
}
