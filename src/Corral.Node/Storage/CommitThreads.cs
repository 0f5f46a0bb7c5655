using System.Collections.Concurrent;

namespace Corral.Node.Storage;

/// <summary>
/// A few dedicated threads that run the commits of many <see cref="GroupCommitWriter"/>s
/// (<see cref="GroupCommitOptions.Scheduler"/>). A commit blocks its thread for the whole transaction, so it must not
/// run on the thread pool that answers requests; but a thread per store (the counter's 8 partitions per worker) puts
/// more runnable threads than cores in front of the requests. While every commit thread is busy the other stores'
/// writes keep gathering, so their next groups are larger.
/// </summary>
public sealed class CommitThreads : TaskScheduler, IDisposable
{
    private readonly BlockingCollection<Task> _tasks = [];
    private readonly Thread[] _threads;

    public CommitThreads(int count, string name)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        _threads = new Thread[count];
        for (var i = 0; i < count; i++)
        {
            _threads[i] = new Thread(Run) { IsBackground = true, Name = $"{name} {i + 1}" };
            _threads[i].Start();
        }
    }

    public override int MaximumConcurrencyLevel => _threads.Length;

    protected override void QueueTask(Task task) => _tasks.Add(task);

    // Never inline: a commit waited on from a request thread must still run on a commit thread.
    protected override bool TryExecuteTaskInline(Task task, bool taskWasPreviouslyQueued) => false;

    protected override IEnumerable<Task> GetScheduledTasks() => _tasks.ToArray();

    private void Run()
    {
        foreach (var task in _tasks.GetConsumingEnumerable()) TryExecuteTask(task);
    }

    /// <summary>Takes no more work; the threads end once what is queued has run. Dispose the writers first.</summary>
    public void Dispose() => _tasks.CompleteAdding();
}
