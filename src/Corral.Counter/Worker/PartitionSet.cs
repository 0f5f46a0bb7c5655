using Corral.Counter.Config;
using Corral.Counter.Items;
using Corral.Counter.Partitioning;
using Corral.Counter.Store;
using Corral.Node.Storage;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;

namespace Corral.Counter.Worker;

/// <summary>The outcome of one worker write: every item committed, or the partitions that have a newer owner.</summary>
public sealed record WriteResult(IReadOnlyList<int> StalePartitions, IReadOnlyList<string> Errors)
{
    public bool Ok => StalePartitions.Count == 0 && Errors.Count == 0;
}

/// <summary>
/// The partitions a worker holds open: a partition is opened (taking its next epoch) when a write for it arrives, and
/// closed when it turns out to have a newer owner, when the membership gives it to another worker, or on drain.
/// Closing drains the partition's writer first: what it acknowledged is committed before the file is let go.
/// </summary>
public sealed partial class PartitionSet : IAsyncDisposable
{
    private readonly StoreLayout _layout;
    private readonly string _owner;
    private readonly Durability _durability;
    private readonly TimeSpan _persistInterval;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly PartitionWriter?[] _writers;
    private readonly SemaphoreSlim[] _gates;
    private readonly CountReader _files;
    private readonly CommitThreads _commitThreads;
    private volatile bool _disposed;

    /// <summary>
    /// Commit threads per worker. Two, whatever the partition count: with a thread per open partition (8 per worker at
    /// the default 32 partitions and 4 workers) the runnable commit threads outnumbered the cores and delayed reads.
    /// </summary>
    internal const int CommitThreadCount = 2;

    public PartitionSet(StoreLayout layout, string owner, CounterConfig config, TimeProvider time, ILogger logger)
    {
        _layout = layout;
        _owner = owner;
        _durability = config.Durability;
        _persistInterval = config.PersistInterval;
        _time = time;
        _logger = logger;
        _writers = new PartitionWriter?[layout.Partitions];
        _gates = Enumerable.Range(0, layout.Partitions).Select(_ => new SemaphoreSlim(1, 1)).ToArray();
        Partitioner = new Partitioner(layout.Partitions);
        _files = new CountReader(layout);
        _commitThreads = new CommitThreads(CommitThreadCount, $"{owner} commits");
    }

    /// <summary>
    /// The tenant's count. A partition this worker holds open answers from its writer's memory, raised after each commit
    /// (so a read never waits behind one); any other partition is read from its file (its owner's commits, or a
    /// partition this worker has not opened since it started).
    /// </summary>
    public long Count(string tenant)
    {
        var partition = Partitioner.Of(tenant);
        return _writers[partition] is { IsClosed: false } writer ? writer.Count(tenant) : _files.Count(partition, tenant);
    }

    public Partitioner Partitioner { get; }

    /// <summary>The partitions open now, with the epoch each was opened at.</summary>
    public IReadOnlyDictionary<int, long> Open() => _writers.Where(w => w is { IsClosed: false }).ToDictionary(w => w!.Partition, w => w!.Epoch);

    /// <summary>Writes a batch: each partition's share goes to its writer, all in parallel; waits for every share.</summary>
    public async Task<WriteResult> WriteAsync(IReadOnlyList<Item> items)
    {
        var shares = new Dictionary<int, List<Item>>();
        foreach (var item in items)
        {
            var partition = Partitioner.Of(item.Tenant);
            if (!shares.TryGetValue(partition, out var share)) shares[partition] = share = [];
            share.Add(item);
        }

        var writes = new List<(int Partition, Task Task)>(shares.Count);
        foreach (var (partition, share) in shares)
        {
            writes.Add((partition, WriteShareAsync(partition, share)));
        }

        var stale = new List<int>();
        var errors = new List<string>();
        foreach (var (partition, task) in writes)
        {
            try
            {
                await task;
            }
            catch (StaleEpochException)
            {
                stale.Add(partition);
            }
            catch (Exception e) when (e is SqliteException or ObjectDisposedException or IOException)
            {
                errors.Add($"partition {partition}: {e.Message}");
            }
        }

        return new WriteResult(stale, errors);
    }

    private async Task WriteShareAsync(int partition, List<Item> share)
    {
        var writer = await AcquireAsync(partition);
        await writer.WriteAsync(share);
    }

    /// <summary>The partition's open writer; opens it (as its new owner, next epoch) when it is not open or was fenced off.</summary>
    public async Task<PartitionWriter> AcquireAsync(int partition)
    {
        if (_writers[partition] is { IsClosed: false } open) return open;
        await _gates[partition].WaitAsync();
        try
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_writers[partition] is { } existing)
            {
                if (!existing.IsClosed) return existing;
                _writers[partition] = null;
                await existing.DisposeAsync();
                LogFenced(_logger, partition, existing.Epoch);
            }

            // Opening waits on the file's write lock (a previous owner's last commit), so it runs off the request thread.
            var store = await Task.Run(() => PartitionStore.Open(_layout, partition, _owner, _durability));
            var writer = new PartitionWriter(store, _durability, _persistInterval, _time, _commitThreads);
            _writers[partition] = writer;
            LogOpened(_logger, partition, store.Epoch);
            return writer;
        }
        finally
        {
            _gates[partition].Release();
        }
    }

    /// <summary>Drains and closes one partition (another worker owns it now); a no-op when it is not open.</summary>
    public async Task ReleaseAsync(int partition, string reason)
    {
        await _gates[partition].WaitAsync();
        try
        {
            if (_writers[partition] is not { } writer) return;
            _writers[partition] = null;
            await writer.DisposeAsync();
            LogReleased(_logger, partition, writer.Epoch, reason);
        }
        finally
        {
            _gates[partition].Release();
        }
    }

    public async ValueTask DisposeAsync()
    {
        _disposed = true;
        for (var partition = 0; partition < _writers.Length; partition++)
        {
            await ReleaseAsync(partition, "the worker is draining");
        }

        _commitThreads.Dispose();
        _files.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "partition {Partition} opened at epoch {Epoch}")]
    private static partial void LogOpened(ILogger logger, int partition, long epoch);

    [LoggerMessage(Level = LogLevel.Information, Message = "partition {Partition} (epoch {Epoch}) has a newer owner: closed")]
    private static partial void LogFenced(ILogger logger, int partition, long epoch);

    [LoggerMessage(Level = LogLevel.Information, Message = "partition {Partition} (epoch {Epoch}) drained and closed: {Reason}")]
    private static partial void LogReleased(ILogger logger, int partition, long epoch, string reason);
}
