using System.Threading.Channels;
using Corral.Counter.Config;
using Corral.Counter.Items;

namespace Corral.Counter.Store;

/// <summary>
/// Group commit for one partition: requests queue their items, one loop commits everything queued in one transaction
/// and then completes every request in it. While a commit runs the next group gathers, so a busy partition commits
/// large groups with no added wait. In <see cref="Durability.Periodic"/> mode requests do not wait: the loop commits
/// what gathered every persist interval (and once more when the writer closes).
/// </summary>
public sealed class PartitionWriter : IAsyncDisposable
{
    /// <summary>A group stops growing here, so one commit's transaction stays short.</summary>
    private const int MaxGroupItems = 50_000;

    private readonly Channel<PendingWrite> _queue = Channel.CreateUnbounded<PendingWrite>(new UnboundedChannelOptions { SingleReader = true });
    private readonly PartitionStore _store;
    private readonly Durability _durability;
    private readonly TimeSpan _persistInterval;
    private readonly TimeProvider _time;
    private readonly CancellationTokenSource _closing = new();
    private readonly Task _loop;
    private Exception? _failure;

    public PartitionWriter(PartitionStore store, Durability durability, TimeSpan persistInterval, TimeProvider time)
    {
        _store = store;
        _durability = durability;
        _persistInterval = persistInterval;
        _time = time;
        // A synchronous commit blocks its thread for the whole transaction: on a thread of its own, so that a worker with
        // several busy partitions never starves the thread pool that serves its requests (reads waited behind commits).
        _loop = durability == Durability.Periodic
            ? Task.Run(PeriodicLoopAsync)
            : Task.Factory.StartNew(Loop, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
    }

    public int Partition => _store.Partition;
    public long Epoch => _store.Epoch;

    /// <summary>Set once a commit found a newer owner (or failed): this writer takes nothing more.</summary>
    public bool IsClosed => _failure is not null || _queue.Reader.Completion.IsCompleted;

    /// <summary>Commits in the loop so far (for the group sizes in the logs and the benchmark).</summary>
    public long Commits { get; private set; }

    /// <summary>
    /// Queues <paramref name="items"/>; the task completes once they are committed (synchronous modes) or at once
    /// (periodic). It fails with <see cref="StaleEpochException"/> when the partition has a newer owner.
    /// </summary>
    public Task WriteAsync(List<Item> items)
    {
        var pending = new PendingWrite(items, _durability == Durability.Periodic ? null : new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
        if (!_queue.Writer.TryWrite(pending))
        {
            return Task.FromException(_failure ?? new StaleEpochException(Partition, Epoch, -1));
        }

        return pending.Done?.Task ?? Task.CompletedTask;
    }

    private void Loop()
    {
        var group = new List<PendingWrite>();
        var items = new List<Item>();
        while (_queue.Reader.WaitToReadAsync().AsTask().GetAwaiter().GetResult())
        {
            Gather(group, items);
            if (!Commit(group, items)) return;
        }
    }

    private async Task PeriodicLoopAsync()
    {
        var group = new List<PendingWrite>();
        var items = new List<Item>();
        while (!_queue.Reader.Completion.IsCompleted)
        {
            try
            {
                await Task.Delay(_persistInterval, _time, _closing.Token);
            }
            catch (OperationCanceledException)
            {
            }

            do
            {
                Gather(group, items);
                if (group.Count > 0 && !Commit(group, items)) return;
            }
            while (group.Count > 0);

            if (_closing.IsCancellationRequested) return;
        }
    }

    private void Gather(List<PendingWrite> group, List<Item> items)
    {
        group.Clear();
        items.Clear();
        while (items.Count < MaxGroupItems && _queue.Reader.TryRead(out var pending))
        {
            group.Add(pending);
            items.AddRange(pending.Items);
        }
    }

    /// <summary>One transaction for the whole group; false when the writer must stop (a newer owner, a broken file).</summary>
    private bool Commit(List<PendingWrite> group, List<Item> items)
    {
        try
        {
            _store.Commit(items);
            Commits++;
            foreach (var pending in group) pending.Done?.TrySetResult();
            return true;
        }
        catch (Exception e)
        {
            _failure = e;
            _queue.Writer.TryComplete(e);
            foreach (var pending in group) pending.Done?.TrySetException(e);
            // What queued behind the failed group was never tried: it fails the same way, and the coordinator re-routes it.
            while (_queue.Reader.TryRead(out var rest)) rest.Done?.TrySetException(e);
            return false;
        }
    }

    /// <summary>Drains: takes nothing new, commits what is queued, closes the file.</summary>
    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        await _closing.CancelAsync();
        await _loop;
        _store.Dispose();
        _closing.Dispose();
    }

    private sealed record PendingWrite(List<Item> Items, TaskCompletionSource? Done);
}
