using Corral.WorkQueue.Config;
using Corral.WorkQueue.Controller;
using Corral.WorkQueue.Store;
using Microsoft.Extensions.Logging;

namespace Corral.WorkQueue.Worker;

/// <summary>
/// Runs a claimed task only when <see cref="ClaimedTaskCheck"/> passes it; otherwise reports it at once as an error,
/// not run, with the reason, so that the run still finishes and the results say why.
/// </summary>
internal sealed partial class CheckedSpecRunner(ISpecRunner inner, WorkQueueConfig config, ILogger<CheckedSpecRunner> logger) : ISpecRunner
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

    [LoggerMessage(Level = LogLevel.Warning, Message = "a claimed task, attempt {Attempt}, is not run: {Problem}")]
    private static partial void LogRefused(ILogger logger, int attempt, string problem);
}
