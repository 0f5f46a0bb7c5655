namespace Corral.Node.Topology;

/// <summary>One problem in a topology: where it is and what would be valid.</summary>
public sealed record TopologyError(SourcePosition Position, string Message)
{
    public override string ToString() => $"{Position}: {Message}";
}

/// <summary>A topology that does not validate. The message lists every error, one per line.</summary>
public sealed class TopologyException(IReadOnlyList<TopologyError> errors)
    : Exception(string.Join(Environment.NewLine, errors))
{
    public IReadOnlyList<TopologyError> Errors { get; } = errors;

    public TopologyException(SourcePosition position, string message) : this([new TopologyError(position, message)])
    {
    }
}

/// <summary>Collects errors and warnings while a topology is read, so a user sees all of them at once.</summary>
public sealed class TopologyDiagnostics
{
    private readonly List<TopologyError> _errors = [];
    private readonly List<TopologyError> _warnings = [];

    public IReadOnlyList<TopologyError> Errors => _errors;
    public IReadOnlyList<TopologyError> Warnings => _warnings;
    public bool HasErrors => _errors.Count > 0;

    public void Error(TopologyNode node, string message) => _errors.Add(new TopologyError(node.Position, message));
    public void Error(SourcePosition position, string message) => _errors.Add(new TopologyError(position, message));
    public void Warn(TopologyNode node, string message) => _warnings.Add(new TopologyError(node.Position, message));

    /// <summary>Throws a <see cref="TopologyException"/> listing every error collected so far, if any.</summary>
    public void ThrowIfErrors()
    {
        if (_errors.Count > 0)
        {
            throw new TopologyException(_errors.ToArray());
        }
    }
}
