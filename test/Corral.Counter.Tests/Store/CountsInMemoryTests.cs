using Corral.Counter.Config;
using Corral.Counter.Items;
using Corral.Counter.Store;
using Corral.Node.Storage;

namespace Corral.Counter.Tests.Store;

/// <summary>
/// The counts a partition's owner serves from memory, on real SQLite files: a read during a commit answers at once with
/// what is committed (never ahead of the file), an acknowledged write is in the count, and a reopened partition
/// restores its counts from the file. Commits are held open with the writer's hook, not with sleeps.
/// </summary>
public sealed class CountsInMemoryTests : IDisposable
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);
    private readonly TempFolder _folder = new();
    private readonly StoreLayout _layout;

    public CountsInMemoryTests()
    {
        _layout = new StoreLayout(_folder.Combine("store"), 8);
        _layout.EnsureCreated();
    }

    public void Dispose() => _folder.Dispose();

    private long FileCount(int partition, string tenant)
    {
        using var reads = new CountReader(_layout);
        return reads.Count(partition, tenant);
    }

    [Fact]
    public async Task A_count_read_while_a_commit_is_held_open_answers_with_what_is_committed_and_an_acknowledged_write_is_in_it()
    {
        using var inside = new SemaphoreSlim(0);
        using var release = new ManualResetEventSlim(true);
        using var threads = new CommitThreads(1, "test");
        var store = PartitionStore.Open(_layout, 0, "worker-1", Durability.Sync);
        await using var writer = new PartitionWriter(store, Durability.Sync, TimeSpan.Zero, TimeProvider.System, threads, () =>
        {
            inside.Release();
            release.Wait(Bound);
        });

        await writer.WriteAsync([new("1", "t"), new("2", "t")]).WaitAsync(Bound);
        Assert.Equal(2, writer.Count("t"));
        Assert.True(inside.Wait(0)); // that commit's pass through the hook

        // The next commit has inserted its items and flushed the count in its transaction, and waits there.
        release.Reset();
        var held = writer.WriteAsync([new("3", "t"), new("4", "t"), new("5", "t")]);
        try
        {
            Assert.True(await inside.WaitAsync(Bound));
            Assert.False(held.IsCompleted);

            // Answered at once from memory (this thread never touches the writer's connection), and not ahead of the file.
            Assert.Equal(2, writer.Count("t"));
            Assert.Equal(2, FileCount(0, "t"));
        }
        finally
        {
            release.Set();
        }

        await held.WaitAsync(Bound);
        // Acknowledged: the count already includes it, as the file does.
        Assert.Equal(5, writer.Count("t"));
        Assert.Equal(5, FileCount(0, "t"));
    }

    [Fact]
    public void A_rolled_back_commit_leaves_the_counts_as_they_were()
    {
        using var store = PartitionStore.Open(_layout, 1, "worker-1", Durability.Sync);
        Assert.Equal(1, store.Commit([new("a", "t")]));
        using var next = PartitionStore.Open(_layout, 1, "worker-2", Durability.Sync);

        Assert.Throws<StaleEpochException>(() => store.Commit([new("b", "t")]));
        Assert.Equal(1, store.Count("t"));
        Assert.Equal(1, next.Count("t"));
    }

    [Fact]
    public void A_reopened_partition_restores_every_tenants_count_from_its_file()
    {
        using (var first = PartitionStore.Open(_layout, 2, "worker-1", Durability.Sync))
        {
            first.Commit([new("1", "t1"), new("2", "t1"), new("1", "t2")]);
            first.Commit([new("3", "t1"), new("2", "t1")]);
        }

        // A restarted worker opens the partition again: its counts are the file's, exactly.
        using var again = PartitionStore.Open(_layout, 2, "worker-1", Durability.Sync);
        Assert.Equal(3, again.Count("t1"));
        Assert.Equal(1, again.Count("t2"));
        Assert.Equal(0, again.Count("t3"));
        Assert.Equal(1, again.Commit([new("4", "t1"), new("1", "t1")]));
        Assert.Equal(4, again.Count("t1"));
    }

    [Fact]
    public async Task Many_partitions_commit_on_the_shared_commit_threads_only_and_every_count_is_exact()
    {
        using var threads = new CommitThreads(2, "shared");
        var names = new System.Collections.Concurrent.ConcurrentBag<string?>();
        var writers = Enumerable.Range(0, _layout.Partitions).Select(partition =>
            new PartitionWriter(PartitionStore.Open(_layout, partition, "worker-1", Durability.Sync), Durability.Sync, TimeSpan.Zero,
                TimeProvider.System, threads, () => names.Add(Thread.CurrentThread.Name))).ToArray();
        try
        {
            var writes = new List<Task>();
            for (var round = 0; round < 20; round++)
            {
                foreach (var writer in writers)
                {
                    writes.Add(writer.WriteAsync(Enumerable.Range(0, 10).Select(i => new Item($"{round}-{i}", $"t{writer.Partition}")).ToList()));
                }
            }

            await Task.WhenAll(writes).WaitAsync(Bound);
            Assert.All(writers, writer => Assert.Equal(200, writer.Count($"t{writer.Partition}")));
            Assert.All(writers, writer => Assert.Equal(200, FileCount(writer.Partition, $"t{writer.Partition}")));
            Assert.NotEmpty(names);
            Assert.All(names, name => Assert.StartsWith("shared ", name));
        }
        finally
        {
            foreach (var writer in writers) await writer.DisposeAsync();
        }
    }
}
