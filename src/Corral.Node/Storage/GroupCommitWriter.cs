using System.Threading.Channels;
using Microsoft.Data.Sqlite;

namespace Corral.Node.Storage;

/// <summary>
/// Group commit on one SQLite connection: callers queue writes; one loop takes everything queued (up to a weight),
/// runs it in ONE transaction, commits, and only then completes each caller's task, so no caller is answered for a
/// write that is not committed. While a batch commits the next one gathers, so a busy store commits large batches
/// with no added wait. A failure (a write or the commit throws) rolls the batch back and fails exactly its writes; the
/// loop goes on with the next batch unless its owner closes it. Refusals that belong to the owner (fencing) are the
/// owner's: it throws from <see cref="GroupCommitOptions.OnBegin"/> and closes the writer from
/// <see cref="GroupCommitOptions.OnFailed"/>. The connection stays its owner's, to dispose after the writer.
/// </summary>
public sealed class GroupCommitWriter : IAsyncDisposable
{
    private readonly Channel<PendingWrite> _queue = Channel.CreateUnbounded<PendingWrite>(new UnboundedChannelOptions { SingleReader = true });
    private readonly SqliteConnection _connection;
    private readonly GroupCommitOptions _options;
    private readonly CancellationTokenSource _closing = new();
    private readonly TaskCompletionSource _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly List<PendingWrite> _batch = [];
    private readonly Task _loop;
    private Exception? _closedWith;
    private long _batchesStarted;
    private long _batches;
    private long _writes;
    private int _disposed;

    public GroupCommitWriter(SqliteConnection connection, GroupCommitOptions? options = null)
    {
        _connection = connection;
        _options = options ?? new GroupCommitOptions();
        ArgumentOutOfRangeException.ThrowIfLessThan(_options.MaxBatchWeight, 1, nameof(options));

        // A commit blocks its thread for the whole transaction (and an fsync): on a thread of its own, so that several
        // busy stores never starve the thread pool that serves their requests.
        _loop = _options.CommitEvery is { } interval
            ? Task.Run(() => PeriodicLoopAsync(interval))
            : _options.Scheduler is { } scheduler
                ? Task.Factory.StartNew(SharedLoopAsync, CancellationToken.None, TaskCreationOptions.DenyChildAttach, scheduler).Unwrap()
                : Task.Factory.StartNew(Loop, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
    }

    /// <summary>Transactions begun so far (committed or not): a batch waiting for the write lock has begun.</summary>
    public long BatchesStarted => Interlocked.Read(ref _batchesStarted);

    /// <summary>Batches committed so far; with <see cref="Writes"/> it tells the mean batch size.</summary>
    public long Batches => Interlocked.Read(ref _batches);

    /// <summary>Writes committed so far.</summary>
    public long Writes => Interlocked.Read(ref _writes);

    /// <summary>True once the writer takes nothing more (closed by its owner, or disposing).</summary>
    public bool IsClosed => _closedWith is not null || _queue.Reader.Completion.IsCompleted || Volatile.Read(ref _disposed) == 1;

    /// <summary>Completes when the loop has ended; faults with the error the owner closed the writer with.</summary>
    public Task Completion => _completion.Task;

    /// <summary>Queues <paramref name="write"/>; the task completes with its result once its batch is committed.</summary>
    public Task<T> WriteAsync<T>(Func<SqliteConnection, T> write, int weight = 1)
    {
        var pending = new PendingWrite<T>(write, weight);
        return _queue.Writer.TryWrite(pending) ? pending.Task : Task.FromException<T>(Refusal());
    }

    /// <summary>Queues <paramref name="write"/>; the task completes once its batch is committed.</summary>
    public Task WriteAsync(Action<SqliteConnection> write, int weight = 1) => WriteAsync(connection =>
    {
        write(connection);
        return true;
    }, weight);

    /// <summary>Takes nothing more and fails what is queued with <paramref name="error"/>; the batch being written ends as it ends.</summary>
    public void Close(Exception error)
    {
        Interlocked.CompareExchange(ref _closedWith, error, null);
        _queue.Writer.TryComplete();
        _closing.Cancel();
    }

    private Exception Refusal() => _closedWith ?? new ObjectDisposedException(nameof(GroupCommitWriter), "the store is closing and takes no more writes");

    private void Loop()
    {
        try
        {
            while (_queue.Reader.WaitToReadAsync().AsTask().GetAwaiter().GetResult())
            {
                TakeBatch();
                CommitBatch();
            }
        }
        finally
        {
            Finish();
        }
    }

    /// <summary>The loop on a shared scheduler: it holds a thread only while it commits, and waits for writes without one.</summary>
    private async Task SharedLoopAsync()
    {
        try
        {
            // Resumes on the scheduler it started on (no ConfigureAwait(false)): the commits must stay on its threads.
            while (await _queue.Reader.WaitToReadAsync().ConfigureAwait(true))
            {
                TakeBatch();
                CommitBatch();
            }
        }
        finally
        {
            Finish();
        }
    }

    private async Task PeriodicLoopAsync(TimeSpan interval)
    {
        try
        {
            while (!_queue.Reader.Completion.IsCompleted)
            {
                try
                {
                    await Task.Delay(interval, _options.Time, _closing.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                }

                // Everything gathered so far, in as many batches as its weight needs; closing commits the rest once more.
                do
                {
                    TakeBatch();
                    CommitBatch();
                }
                while (_batch.Count > 0);

                if (_closing.IsCancellationRequested) return;
            }
        }
        finally
        {
            Finish();
        }
    }

    private void TakeBatch()
    {
        _batch.Clear();
        var weight = 0;
        while (weight < _options.MaxBatchWeight && _queue.Reader.TryRead(out var pending))
        {
            _batch.Add(pending);
            weight += Math.Max(1, pending.Weight);
        }
    }

    private void CommitBatch()
    {
        if (_batch.Count == 0) return;
        if (_closedWith is { } closed)
        {
            foreach (var pending in _batch) pending.Fail(closed);
            return;
        }

        Interlocked.Increment(ref _batchesStarted);
        try
        {
            Execute("BEGIN IMMEDIATE");
            try
            {
                _options.OnBegin?.Invoke(_connection);
                foreach (var pending in _batch) pending.Run(_connection);
                _options.OnCommitting?.Invoke(_connection);
                Execute("COMMIT");
            }
            catch
            {
                Rollback();
                throw;
            }
        }
        catch (Exception e)
        {
            try
            {
                _options.OnFailed?.Invoke(e);
            }
            finally
            {
                // Nothing of the batch is committed: each of its callers is told so, and the loop goes on.
                foreach (var pending in _batch) pending.Fail(e);
            }

            return;
        }

        Interlocked.Increment(ref _batches);
        Interlocked.Add(ref _writes, _batch.Count);
        try
        {
            _options.OnCommitted?.Invoke(_batch.Count);
        }
        catch (Exception e)
        {
            // The batch is committed, so its callers get their results; an owner whose bookkeeping broke takes no more.
            Close(e);
        }
        finally
        {
            foreach (var pending in _batch) pending.Complete();
        }
    }

    private void Rollback()
    {
        try
        {
            Execute("ROLLBACK");
        }
        catch (SqliteException)
        {
            // SQLite already rolled back (or never began): nothing is open.
        }
    }

    /// <summary>The loop ends: whatever is still queued fails (a closed writer's queue), and <see cref="Completion"/> says how it ended.</summary>
    private void Finish()
    {
        _queue.Writer.TryComplete();
        var error = Refusal();
        while (_queue.Reader.TryRead(out var left)) left.Fail(error);
        if (_closedWith is { } closed) _completion.TrySetException(closed);
        else _completion.TrySetResult();
    }

    private void Execute(string sql)
    {
        using var command = _connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    /// <summary>Takes nothing new, commits what is queued (or fails it, when closed), and waits for the loop to end.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            await _loop.ConfigureAwait(false);
            return;
        }

        _queue.Writer.TryComplete();
        await _closing.CancelAsync().ConfigureAwait(false);
        await _loop.ConfigureAwait(false);
    }

    private abstract class PendingWrite(int weight)
    {
        public int Weight { get; } = weight;
        public abstract void Run(SqliteConnection connection);
        public abstract void Complete();
        public abstract void Fail(Exception error);
    }

    private sealed class PendingWrite<T>(Func<SqliteConnection, T> write, int weight) : PendingWrite(weight)
    {
        private readonly TaskCompletionSource<T> _done = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private T _result = default!;

        public Task<T> Task => _done.Task;
        public override void Run(SqliteConnection connection) => _result = write(connection);
        public override void Complete() => _done.TrySetResult(_result);
        public override void Fail(Exception error) => _done.TrySetException(error);
    }
}
