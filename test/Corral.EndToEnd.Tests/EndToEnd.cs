namespace Corral.EndToEnd.Tests;

/// <summary>
/// End-to-end tests start whole clusters of real processes; on two cores they run one at a time so
/// their timings stay honest.
/// </summary>
[CollectionDefinition(Collection, DisableParallelization = true)]
public sealed class EndToEnd
{
    public const string Collection = "end-to-end";
}
