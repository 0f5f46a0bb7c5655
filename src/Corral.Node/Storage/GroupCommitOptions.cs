using Microsoft.Data.Sqlite;

namespace Corral.Node.Storage;

/// <summary>How a <see cref="GroupCommitWriter"/> groups writes, and what its owner does at each step of a batch.</summary>
public sealed record GroupCommitOptions
{
    /// <summary>A batch stops growing once its writes weigh this much (a write weighs 1 unless it says), so a transaction stays short.</summary>
    public int MaxBatchWeight { get; init; } = 256;

    /// <summary>
    /// Null: a batch is committed as soon as writes wait (their callers wait for the commit). Set: what gathered is
    /// committed every interval (and once more when the writer closes), for callers that do not wait (the counter's
    /// <c>durability: periodic</c>).
    /// </summary>
    public TimeSpan? CommitEvery { get; init; }

    public TimeProvider Time { get; init; } = TimeProvider.System;

    /// <summary>
    /// Null: the commit loop has a thread of its own. Set: the loop runs its commits on this scheduler (a few
    /// <see cref="CommitThreads"/> shared by many writers), so many stores do not mean as many busy threads.
    /// </summary>
    public TaskScheduler? Scheduler { get; init; }

    /// <summary>Runs first inside each batch's transaction: a check that refuses the whole batch (a fencing token) throws here.</summary>
    public Action<SqliteConnection>? OnBegin { get; init; }

    /// <summary>Runs inside the transaction after the batch's writes, before the commit: work shared by the batch's writes.</summary>
    public Action<SqliteConnection>? OnCommitting { get; init; }

    /// <summary>Runs after the commit and before any caller is answered, with the batch's write count.</summary>
    public Action<int>? OnCommitted { get; init; }

    /// <summary>Runs after a failed batch was rolled back and before its callers are failed (an owner that must stop closes the writer here).</summary>
    public Action<Exception>? OnFailed { get; init; }
}
