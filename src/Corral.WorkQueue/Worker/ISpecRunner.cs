using Corral.WorkQueue.Controller;
using Corral.WorkQueue.Store;

namespace Corral.WorkQueue.Worker;

/// <summary>How one attempt ended, as the worker reports it.</summary>
public sealed record RunResult(AttemptResult Result, int? ExitCode, long DurationMs, string OutputTail);

/// <summary>Runs one claimed task to its end (or its timeout). The process runner is the real one; benchmarks use a no-op.</summary>
public interface ISpecRunner
{
    Task<RunResult> RunAsync(ClaimedTask task, CancellationToken cancellationToken);
}

/// <summary>A runner that can run several claimed tasks in one invocation and still report each on its own.</summary>
public interface IBatchSpecRunner : ISpecRunner
{
    /// <summary>One result per task, in the order given.</summary>
    Task<IReadOnlyList<RunResult>> RunBatchAsync(IReadOnlyList<ClaimedTask> batch, CancellationToken cancellationToken);
}
