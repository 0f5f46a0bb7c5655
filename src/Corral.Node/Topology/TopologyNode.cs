namespace Corral.Node.Topology;

/// <summary>Where a value came from: a file position, or a command-line override.</summary>
public sealed record SourcePosition(string Source, int Line, int Column)
{
    public override string ToString() => Line > 0 ? $"{Source}:{Line}:{Column}" : Source;
}

/// <summary>A node of a parsed topology document that remembers its source position.</summary>
public abstract class TopologyNode(SourcePosition position)
{
    public SourcePosition Position { get; } = position;

    /// <summary>A short description of the node's kind, for error messages ("a mapping", "a list").</summary>
    public abstract string Kind { get; }
}

/// <summary>A YAML scalar. <see cref="IsNull"/> is true for a plain <c>~</c>, <c>null</c> or empty value.</summary>
public sealed class TopologyScalar(SourcePosition position, string value, bool isQuoted) : TopologyNode(position)
{
    public string Value { get; } = value;
    public bool IsQuoted { get; } = isQuoted;
    public bool IsNull => !IsQuoted && Value is "" or "~" or "null" or "Null" or "NULL";
    public override string Kind => "a value";
}

/// <summary>A YAML sequence.</summary>
public sealed class TopologySequence(SourcePosition position, IReadOnlyList<TopologyNode> items) : TopologyNode(position)
{
    public IReadOnlyList<TopologyNode> Items { get; } = items;
    public override string Kind => "a list";
}

/// <summary>A YAML mapping with string keys, in document order.</summary>
public sealed class TopologyMapping(SourcePosition position, IReadOnlyList<KeyValuePair<TopologyScalar, TopologyNode>> entries)
    : TopologyNode(position)
{
    public IReadOnlyList<KeyValuePair<TopologyScalar, TopologyNode>> Entries { get; } = entries;
    public override string Kind => "a mapping";

    public TopologyNode? this[string key] => Entries.FirstOrDefault(e => e.Key.Value == key).Value;

    public bool ContainsKey(string key) => Entries.Any(e => e.Key.Value == key);

    public IEnumerable<string> Keys => Entries.Select(e => e.Key.Value);
}

/// <summary>A parsed topology file (after <c>--set</c> overrides).</summary>
public sealed record TopologyDocument(string Path, TopologyNode Root)
{
    /// <summary>
    /// Settings given with <c>--set</c> for a file whose top level is a list (seed 000's <c>config.json</c>): the file
    /// has no place for them, so they are kept beside it and the app reads them as its settings (tick, seed, ...).
    /// </summary>
    public TopologyMapping? Settings { get; init; }

    /// <summary>
    /// Whether the nodes run off this machine (an engine other than local processes starts them): an app then accepts
    /// peer addresses on other hosts (the counter's worker URLs) that a local run must refuse.
    /// </summary>
    public bool NodesOffThisMachine { get; init; }

    /// <summary>A top-level setting, from the file's mapping or from <see cref="Settings"/>; null when neither has it.</summary>
    public TopologyNode? Setting(string key) => Root is TopologyMapping mapping && mapping[key] is { } value ? value : Settings?[key];
}
