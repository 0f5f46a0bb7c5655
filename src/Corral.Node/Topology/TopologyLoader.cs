namespace Corral.Node.Topology;

/// <summary>Reads a topology file and applies the command line's overrides.</summary>
public static class TopologyLoader
{
    public static TopologyDocument Load(string path, IEnumerable<string>? overrides = null)
    {
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new TopologyException(new SourcePosition(path, 0, 0), $"cannot read the topology file: {e.Message}");
        }

        var root = TopologyParser.Parse(text, path);
        return TopologyOverrides.Apply(new TopologyDocument(path, root), overrides ?? []);
    }
}
