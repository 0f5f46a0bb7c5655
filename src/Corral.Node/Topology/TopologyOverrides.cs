namespace Corral.Node.Topology;

/// <summary>
/// Applies <c>--set key=value</c> overrides to a parsed topology. Keys are dotted paths; list items
/// are addressed by index (<c>cowboys.0.health=3</c>). An override may add a key the file does not
/// have; whether that key is valid is the app's to decide when it reads the result.
/// </summary>
internal static class TopologyOverrides
{
    /// <summary>
    /// Applies overrides to a document. When the file's top level is a list (seed 000's <c>config.json</c>), an
    /// override that does not address an item by index is a setting: it goes to <see cref="TopologyDocument.Settings"/>,
    /// which the app reads after the file, so <c>--set tick=50ms</c> works whatever the file's shape.
    /// </summary>
    public static TopologyDocument Apply(TopologyDocument document, IEnumerable<string> assignments)
    {
        var root = document.Root;
        var settings = document.Settings;
        foreach (var assignment in assignments)
        {
            var (path, value, source) = Parse(assignment);
            if (root is TopologySequence && !int.TryParse(path[0], out _))
            {
                settings = (TopologyMapping)Replace(settings ?? new TopologyMapping(new SourcePosition(source, 0, 0), []), path, 0, value, source);
            }
            else
            {
                root = Replace(root, path, 0, value, source);
            }
        }

        return document with { Root = root, Settings = settings };
    }

    /// <summary>Applies overrides to a tree; a list at the top level takes only indexed keys (a document takes settings too).</summary>
    public static TopologyNode Apply(TopologyNode root, IEnumerable<string> assignments)
    {
        foreach (var assignment in assignments)
        {
            var (path, value, source) = Parse(assignment);
            root = Replace(root, path, 0, value, source);
        }

        return root;
    }

    private static (string[] Path, TopologyNode Value, string Source) Parse(string assignment)
    {
        var source = $"--set {assignment}";
        var equals = assignment.IndexOf('=');
        if (equals <= 0)
        {
            throw new TopologyException(new SourcePosition(source, 0, 0), "expected --set key=value, for example --set tick=50ms");
        }

        var path = assignment[..equals].Trim().Split('.');
        if (path.Any(p => p.Length == 0))
        {
            throw new TopologyException(new SourcePosition(source, 0, 0), "the key has an empty part; write it as a.b.c");
        }

        return (path, ParseValue(assignment[(equals + 1)..], source), source);
    }

    private static TopologyNode ParseValue(string text, string source)
    {
        // A value may be any YAML (`--set 'cowboys=[{name: a, health: 1, damage: 1}]'`); positions point at the override.
        try
        {
            var node = TopologyParser.Parse(text.Length == 0 ? "''" : text, source);
            return Reposition(node, source);
        }
        catch (TopologyException)
        {
            return new TopologyScalar(new SourcePosition(source, 0, 0), text, isQuoted: true);
        }
    }

    private static TopologyNode Reposition(TopologyNode node, string source)
    {
        var position = new SourcePosition(source, 0, 0);
        return node switch
        {
            TopologyScalar s => new TopologyScalar(position, s.Value, s.IsQuoted),
            TopologySequence q => new TopologySequence(position, q.Items.Select(i => Reposition(i, source)).ToArray()),
            TopologyMapping m => new TopologyMapping(position, m.Entries
                .Select(e => new KeyValuePair<TopologyScalar, TopologyNode>((TopologyScalar)Reposition(e.Key, source), Reposition(e.Value, source)))
                .ToArray()),
            _ => node,
        };
    }

    private static TopologyNode Replace(TopologyNode node, string[] path, int depth, TopologyNode value, string source)
    {
        if (depth == path.Length)
        {
            return value;
        }

        var part = path[depth];
        switch (node)
        {
            case TopologyMapping mapping:
            {
                var entries = mapping.Entries.ToList();
                var index = entries.FindIndex(e => e.Key.Value == part);
                if (index < 0)
                {
                    var key = new TopologyScalar(new SourcePosition(source, 0, 0), part, false);
                    var empty = new TopologyMapping(new SourcePosition(source, 0, 0), []);
                    entries.Add(new(key, Replace(empty, path, depth + 1, value, source)));
                }
                else
                {
                    entries[index] = new(entries[index].Key, Replace(entries[index].Value, path, depth + 1, value, source));
                }

                return new TopologyMapping(mapping.Position, entries);
            }

            case TopologySequence sequence when int.TryParse(part, out var i):
            {
                if (i < 0 || i >= sequence.Items.Count)
                {
                    throw new TopologyException(new SourcePosition(source, 0, 0),
                        $"'{string.Join('.', path[..(depth + 1)])}' is out of range: the list has {sequence.Items.Count} items (0 to {sequence.Items.Count - 1})");
                }

                var items = sequence.Items.ToArray();
                items[i] = Replace(items[i], path, depth + 1, value, source);
                return new TopologySequence(sequence.Position, items);
            }

            case TopologySequence when depth == 0:
                throw new TopologyException(new SourcePosition(source, 0, 0),
                    $"this file's top level is a list (an original's file), so '{part}' has nowhere inside it: --set can change its items " +
                    "by index (--set 0.health=3); settings such as tick apply when the whole document is loaded (TopologyLoader)");

            default:
                throw new TopologyException(new SourcePosition(source, 0, 0),
                    $"'{string.Join('.', path[..depth])}' is {node.Kind} ({node.Position}), so '{part}' cannot be set inside it");
        }
    }
}
