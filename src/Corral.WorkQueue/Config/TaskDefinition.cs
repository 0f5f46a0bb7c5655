namespace Corral.WorkQueue.Config;

/// <summary>
/// One task of a run: a spec on one browser at one viewport. <see cref="Key"/> is the original's
/// <c>task:&lt;group&gt;:&lt;index within the group&gt;</c>; <see cref="Ordinal"/> is its place in the whole file.
/// </summary>
public sealed record TaskDefinition
{
    public required string Key { get; init; }
    public required string Group { get; init; }
    public required int Index { get; init; }
    public required int Ordinal { get; init; }
    public required string Spec { get; init; }
    public required string Viewport { get; init; }
    public required string Browser { get; init; }

    /// <summary>The command of the task's group when the spec list names one (the original mixed runners); null: the topology's.</summary>
    public IReadOnlyList<string>? Command { get; init; }

    /// <summary>The key under which a task's durations are remembered across runs: the same spec, browser and viewport.</summary>
    public string HistoryKey => $"{Spec}|{Browser}|{Viewport}";
}

/// <summary>A viewport and browser that are never run together (the original's mobile + firefox).</summary>
public sealed record Combination(string Viewport, string Browser);
