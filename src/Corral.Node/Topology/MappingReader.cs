using System.Globalization;
using Corral.Node.Text;

namespace Corral.Node.Topology;

/// <summary>
/// Reads typed values out of one topology mapping. Every problem is recorded in the shared
/// <see cref="TopologyDiagnostics"/> with its position and what would be valid; a read that fails
/// returns the default so reading can go on and report the next problem too.
/// </summary>
public sealed class MappingReader
{
    private readonly TopologyMapping _mapping;
    private readonly TopologyDiagnostics _diagnostics;
    private readonly string _path;
    private readonly HashSet<string> _known = new(StringComparer.Ordinal);

    public MappingReader(TopologyMapping mapping, TopologyDiagnostics diagnostics, string path = "")
    {
        _mapping = mapping;
        _diagnostics = diagnostics;
        _path = path;
    }

    public TopologyMapping Mapping => _mapping;
    public TopologyDiagnostics Diagnostics => _diagnostics;

    /// <summary>Turns a node into a reader, or records an error if it is not a mapping.</summary>
    public static MappingReader? From(TopologyNode? node, TopologyDiagnostics diagnostics, string path)
    {
        if (node is TopologyMapping mapping)
        {
            return new MappingReader(mapping, diagnostics, path);
        }

        if (node is not null)
        {
            diagnostics.Error(node, $"{Describe(path)} must be a mapping of keys to values, not {node.Kind}");
        }

        return null;
    }

    public string Name(string key) => _path.Length == 0 ? key : $"{_path}.{key}";

    private static string Describe(string path) => path.Length == 0 ? "the document" : path;

    /// <summary>Marks a key as known without reading it (for keys read elsewhere).</summary>
    public TopologyNode? Node(string key)
    {
        _known.Add(key);
        return _mapping[key];
    }

    public string? OptionalString(string key, string? fallback = null)
    {
        var node = Node(key);
        if (node is null) return fallback;
        if (node is TopologyScalar { IsNull: false } scalar) return scalar.Value;
        if (node is TopologyScalar) return fallback;
        _diagnostics.Error(node, $"{Name(key)} must be a text value, not {node.Kind}");
        return fallback;
    }

    public string RequiredString(string key, string expected)
    {
        if (_mapping[key] is null)
        {
            _known.Add(key);
            _diagnostics.Error(_mapping, $"{Name(key)} is missing: expected {expected}");
            return "";
        }

        var value = OptionalString(key);
        if (value is null || value.Trim().Length == 0)
        {
            _diagnostics.Error(_mapping[key]!, $"{Name(key)} must not be empty: expected {expected}");
            return "";
        }

        return value;
    }

    public int? OptionalInt(string key, int? min = null, int? max = null)
    {
        var node = Node(key);
        if (node is null || node is TopologyScalar { IsNull: true }) return null;
        if (node is not TopologyScalar scalar
            || !int.TryParse(scalar.Value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value))
        {
            _diagnostics.Error(node, $"{Name(key)} must be a whole number{Range(min, max)}, got {Show(node)}");
            return null;
        }

        if ((min is not null && value < min) || (max is not null && value > max))
        {
            _diagnostics.Error(node, $"{Name(key)} must be a whole number{Range(min, max)}, got {value}");
            return null;
        }

        return value;
    }

    public int RequiredInt(string key, int? min = null, int? max = null)
    {
        if (_mapping[key] is null)
        {
            _known.Add(key);
            _diagnostics.Error(_mapping, $"{Name(key)} is missing: expected a whole number{Range(min, max)}");
            return min ?? 0;
        }

        return OptionalInt(key, min, max) ?? min ?? 0;
    }

    public long? OptionalLong(string key)
    {
        var node = Node(key);
        if (node is null || node is TopologyScalar { IsNull: true }) return null;
        if (node is TopologyScalar scalar
            && long.TryParse(scalar.Value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value))
        {
            return value;
        }

        _diagnostics.Error(node, $"{Name(key)} must be a whole number, got {Show(node)}");
        return null;
    }

    public double? OptionalDouble(string key, double? min = null, double? max = null)
    {
        var node = Node(key);
        if (node is null || node is TopologyScalar { IsNull: true }) return null;
        if (node is TopologyScalar scalar
            && double.TryParse(scalar.Value, NumberStyles.Float, CultureInfo.InvariantCulture, out var value)
            && double.IsFinite(value)
            && (min is null || value >= min) && (max is null || value <= max))
        {
            return value;
        }

        var range = (min, max) switch
        {
            (not null, not null) => $" between {min} and {max}",
            (not null, null) => $" ≥ {min}",
            (null, not null) => $" ≤ {max}",
            _ => "",
        };
        _diagnostics.Error(node, $"{Name(key)} must be a number{range}, got {Show(node)}");
        return null;
    }

    public bool? OptionalBool(string key)
    {
        var node = Node(key);
        if (node is null || node is TopologyScalar { IsNull: true }) return null;
        if (node is TopologyScalar scalar)
        {
            switch (scalar.Value)
            {
                case "true" or "True" or "yes" or "on": return true;
                case "false" or "False" or "no" or "off": return false;
            }
        }

        _diagnostics.Error(node, $"{Name(key)} must be true or false, got {Show(node)}");
        return null;
    }

    /// <summary>Reads a duration string (<c>50ms</c>, <c>1s</c>). A bare number is refused: its unit would be a guess.</summary>
    public TimeSpan? OptionalDuration(string key, TimeSpan? min = null)
    {
        var node = Node(key);
        if (node is null || node is TopologyScalar { IsNull: true }) return null;
        if (node is TopologyScalar scalar && Durations.TryParse(scalar.Value, out var value))
        {
            if (min is not null && value < min)
            {
                _diagnostics.Error(node, $"{Name(key)} must be at least {Durations.Format(min.Value)}, got {scalar.Value}");
                return null;
            }

            return value;
        }

        _diagnostics.Error(node, $"{Name(key)} must be {Durations.Expected}, got {Show(node)}");
        return null;
    }

    /// <summary>Reads one of a fixed set of words.</summary>
    public string? OptionalChoice(string key, params string[] choices)
    {
        var node = Node(key);
        if (node is null || node is TopologyScalar { IsNull: true }) return null;
        if (node is TopologyScalar scalar && choices.Contains(scalar.Value, StringComparer.Ordinal))
        {
            return scalar.Value;
        }

        _diagnostics.Error(node, $"{Name(key)} must be one of {string.Join(", ", choices)}, got {Show(node)}");
        return null;
    }

    public TopologySequence? OptionalSequence(string key)
    {
        var node = Node(key);
        if (node is null || node is TopologyScalar { IsNull: true }) return null;
        if (node is TopologySequence sequence) return sequence;
        _diagnostics.Error(node, $"{Name(key)} must be a list, not {node.Kind}");
        return null;
    }

    public MappingReader? OptionalMapping(string key)
    {
        var node = Node(key);
        if (node is null || node is TopologyScalar { IsNull: true }) return null;
        return From(node, _diagnostics, Name(key));
    }

    /// <summary>Corral's own format: a key nobody read is an error naming the valid keys.</summary>
    public void RejectUnknownKeys()
    {
        foreach (var (key, _) in _mapping.Entries)
        {
            if (!_known.Contains(key.Value))
            {
                _diagnostics.Error(key, $"unknown key '{Name(key.Value)}': valid keys here are {string.Join(", ", _known.Order(StringComparer.Ordinal))}");
            }
        }
    }

    /// <summary>An original's file: a key Corral has no meaning for is ignored with one warning.</summary>
    public void WarnUnknownKeys()
    {
        foreach (var (key, _) in _mapping.Entries)
        {
            if (!_known.Contains(key.Value))
            {
                _diagnostics.Warn(key, $"key '{Name(key.Value)}' has no meaning in Corral and is ignored");
            }
        }
    }

    private static string Range(int? min, int? max) => (min, max) switch
    {
        (not null, not null) => $" from {min} to {max}",
        (not null, null) => $" ≥ {min}",
        (null, not null) => $" ≤ {max}",
        _ => "",
    };

    internal static string Show(TopologyNode node) => node switch
    {
        TopologyScalar { IsNull: true } => "nothing",
        TopologyScalar s => $"'{s.Value}'",
        _ => node.Kind,
    };
}
