using Corral.Counter.Items;
using Corral.Node.Storage;

namespace Corral.Counter.Store;

/// <summary>
/// Group commit for one partition on the node kit's <see cref="GroupCommitWriter"/>: requests queue their items, one
/// loop commits everything queued in one transaction (the epoch checked first inside it) and then completes every
/// request in it. In <see cref="Durability.Periodic"/> mode requests do not wait: the writer commits what gathered
/// every persist interval (and once more when it closes). A failed commit (a newer owner, a broken file) closes the
/// writer: its queued writes fail the same way and the coordinator re-routes them.
/// </summary>
public sealed class PartitionWriter : IAsyncDisposable
{
    /// <summary>A group stops growing here, so one commit's transaction stays short.</summary>
    private const int MaxGroupItems = 50_000;

    private readonly PartitionStore _store;
    private readonly Durability _durability;
    private readonly GroupCommitWriter _writer;

    /// <param name="commitThreads">The worker's shared commit threads; null gives this partition a thread of its own.</param>
    /// <param name="beforeCommit">Runs inside each transaction just before its commit (tests hold a commit open with it).</param>
    public PartitionWriter(PartitionStore store, Durability durability, TimeSpan persistInterval, TimeProvider time,
        TaskScheduler? commitThreads = null, Action? beforeCommit = null)
    {
        _store = store;
        _durability = durability;
        _writer = new GroupCommitWriter(store.Connection, new GroupCommitOptions
        {
            MaxBatchWeight = MaxGroupItems,
            CommitEvery = durability == Durability.Periodic ? persistInterval : null,
            Time = time,
            Scheduler = commitThreads,
            OnBegin = _ => store.CheckEpoch(),
            OnCommitting = _ =>
            {
                store.FlushCounts();
                beforeCommit?.Invoke();
            },
            OnCommitted = _ => store.PublishCounts(),
            OnFailed = e =>
            {
                store.ForgetCounts();
                _writer!.Close(e);
            },
        });
    }

    public int Partition => _store.Partition;
    public long Epoch => _store.Epoch;

    /// <summary>The tenant's committed count, from memory (never waits for a commit in progress).</summary>
    public long Count(string tenant) => _store.Count(tenant);

    /// <summary>Set once a commit found a newer owner (or failed): this writer takes nothing more.</summary>
    public bool IsClosed => _writer.IsClosed;

    /// <summary>Commits so far (for the group sizes in the logs and the benchmark).</summary>
    public long Commits => _writer.Batches;

    /// <summary>
    /// Queues <paramref name="items"/>; the task completes once they are committed (synchronous modes) or at once
    /// (periodic). It fails with <see cref="StaleEpochException"/> when the partition has a newer owner.
    /// </summary>
    public Task WriteAsync(List<Item> items)
    {
        var write = _writer.WriteAsync(_ => _store.Insert(items), items.Count);
        if (write.IsFaulted)
        {
            // Refused at once: the writer was closed by a failed commit (its error), or is closing.
            return write.Exception!.InnerException is ObjectDisposedException ? Task.FromException(new StaleEpochException(Partition, Epoch, -1)) : write;
        }

        if (_durability != Durability.Periodic) return write;

        // Answered from memory: a later failure closes the writer (the set reopens the partition) and is observed here.
        _ = write.ContinueWith(static t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        return Task.CompletedTask;
    }

    /// <summary>Drains: takes nothing new, commits what is queued, closes the file.</summary>
    public async ValueTask DisposeAsync()
    {
        await _writer.DisposeAsync();
        _store.Dispose();
    }
}
