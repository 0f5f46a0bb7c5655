using YamlDotNet.Core;
using YamlDotNet.Core.Events;

namespace Corral.Node.Topology;

/// <summary>
/// Parses YAML (and therefore JSON, which the originals use) into <see cref="TopologyNode"/>s that keep
/// line and column. Anchors and aliases are refused: a topology is small enough to write out.
/// </summary>
public static class TopologyParser
{
    public static TopologyNode Parse(string text, string source)
    {
        var parser = new Parser(new StringReader(text));
        try
        {
            parser.Consume<StreamStart>();
            if (parser.Accept<StreamEnd>(out _))
            {
                throw new TopologyException(new SourcePosition(source, 1, 1), "the file is empty: expected a topology (see examples/)");
            }

            parser.Consume<DocumentStart>();
            if (parser.Accept<DocumentEnd>(out _))
            {
                throw new TopologyException(new SourcePosition(source, 1, 1), "the file is empty: expected a topology (see examples/)");
            }

            var root = ReadNode(parser, source);
            parser.Consume<DocumentEnd>();
            if (!parser.Accept<StreamEnd>(out _))
            {
                var at = parser.Current!.Start;
                throw new TopologyException(new SourcePosition(source, (int)at.Line, (int)at.Column), "a topology file holds one document; remove the second '---'");
            }

            return root;
        }
        catch (YamlException e)
        {
            throw new TopologyException(
                new SourcePosition(source, (int)e.Start.Line, (int)e.Start.Column),
                $"not valid YAML or JSON: {Clean(e.Message)}");
        }
    }

    private static string Clean(string message)
    {
        // YamlDotNet prefixes messages with "(Line: x, Col: y, Idx: z) - (…): "; the position is already ours.
        var at = message.LastIndexOf("): ", StringComparison.Ordinal);
        return at >= 0 ? message[(at + 3)..] : message;
    }

    private static TopologyNode ReadNode(IParser parser, string source)
    {
        var start = parser.Current!.Start;
        var position = new SourcePosition(source, (int)start.Line, (int)start.Column);
        if (parser.TryConsume<Scalar>(out var scalar))
        {
            return new TopologyScalar(position, scalar.Value, scalar.Style is ScalarStyle.SingleQuoted or ScalarStyle.DoubleQuoted or ScalarStyle.Literal or ScalarStyle.Folded);
        }

        if (parser.TryConsume<SequenceStart>(out _))
        {
            var items = new List<TopologyNode>();
            while (!parser.TryConsume<SequenceEnd>(out _))
            {
                items.Add(ReadNode(parser, source));
            }

            return new TopologySequence(position, items);
        }

        if (parser.TryConsume<MappingStart>(out _))
        {
            var entries = new List<KeyValuePair<TopologyScalar, TopologyNode>>();
            while (!parser.TryConsume<MappingEnd>(out _))
            {
                var keyNode = ReadNode(parser, source);
                if (keyNode is not TopologyScalar key)
                {
                    throw new TopologyException(keyNode.Position, "keys must be plain names, not " + keyNode.Kind);
                }

                if (entries.Any(e => e.Key.Value == key.Value))
                {
                    throw new TopologyException(key.Position, $"key '{key.Value}' appears twice in this mapping; keep one");
                }

                entries.Add(new(key, ReadNode(parser, source)));
            }

            return new TopologyMapping(position, entries);
        }

        if (parser.Current is AnchorAlias)
        {
            throw new TopologyException(position, "YAML aliases (*name) are not supported in topologies; write the value out");
        }

        throw new TopologyException(position, $"unexpected YAML element {parser.Current?.GetType().Name}");
    }
}
