using Corral.WorkQueue.Config;
using Corral.WorkQueue.Controller;
using Corral.WorkQueue.Store;
using Microsoft.Extensions.Logging;

namespace Corral.WorkQueue.Worker;

/// <summary>
/// Runs a claimed task only when <see cref="ClaimedTaskCheck"/> passes it; otherwise reports it at once as an error,
/// not run, with the reason, so that the run still finishes and the results say why.
/// </summary>
internal sealed partial class CheckedSpecRunner(ISpecRunner inner, WorkQueueConfig config, ILogger<CheckedSpecRunner> logger) : IBatchSpecRunner
{
    public const string NotRun = "[corral] not run: ";

    public Task<RunResult> RunAsync(ClaimedTask task, CancellationToken cancellationToken)
    {
        if (ClaimedTaskCheck.Problem(task, config) is not { } problem)
        {
            return inner.RunAsync(task, cancellationToken);
        }

        LogRefused(logger, task.Attempt, problem);
        return Task.FromResult(new RunResult(AttemptResult.Error, null, 0, NotRun + problem));
    }

    /// <summary>The tasks that pass the check run together (one by one when the inner runner cannot batch); the others are reported not run.</summary>
    public async Task<IReadOnlyList<RunResult>> RunBatchAsync(IReadOnlyList<ClaimedTask> batch, CancellationToken cancellationToken)
    {
        var results = new RunResult?[batch.Count];
        var runnable = new List<int>();
        for (var i = 0; i < batch.Count; i++)
        {
            if (ClaimedTaskCheck.Problem(batch[i], config) is { } problem)
            {
                LogRefused(logger, batch[i].Attempt, problem);
                results[i] = new RunResult(AttemptResult.Error, null, 0, NotRun + problem);
            }
            else
            {
                runnable.Add(i);
            }
        }

        if (inner is IBatchSpecRunner batching && runnable.Count > 1)
        {
            var ran = await batching.RunBatchAsync(runnable.Select(i => batch[i]).ToArray(), cancellationToken);
            for (var j = 0; j < runnable.Count; j++) results[runnable[j]] = ran[j];
        }
        else
        {
            foreach (var i in runnable) results[i] = await inner.RunAsync(batch[i], cancellationToken);
        }

        return results.Select(r => r!).ToArray();
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "a claimed task, attempt {Attempt}, is not run: {Problem}")]
    private static partial void LogRefused(ILogger logger, int attempt, string problem);
}
