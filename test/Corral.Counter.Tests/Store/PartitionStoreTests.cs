using Corral.Counter.Config;
using Corral.Counter.Items;
using Corral.Counter.Store;
using Microsoft.Extensions.Time.Testing;

namespace Corral.Counter.Tests.Store;

/// <summary>Real SQLite files in a temp folder: counts, idempotence, fencing and the fixed partition count.</summary>
public sealed class PartitionStoreTests : IDisposable
{
    private readonly TempFolder _folder = new();
    private readonly StoreLayout _layout;

    public PartitionStoreTests()
    {
        _layout = new StoreLayout(_folder.Combine("store"), 4);
        _layout.EnsureCreated();
    }

    public void Dispose() => _folder.Dispose();

    private long Count(int partition, string tenant)
    {
        using var reads = new CountReader(_layout);
        return reads.Count(partition, tenant);
    }

    [Fact]
    public void A_commit_counts_each_distinct_id_once_per_tenant_and_a_resent_batch_changes_nothing()
    {
        using var store = PartitionStore.Open(_layout, 1, "worker-1", Durability.Sync);
        List<Item> batch = [new("1", "t1"), new("4", "t1"), new("1", "t1"), new("1", "t2")];
        Assert.Equal(3, store.Commit(batch));
        Assert.Equal(0, store.Commit(batch));
        Assert.Equal(2, Count(1, "t1"));
        Assert.Equal(1, Count(1, "t2"));
        Assert.Equal(0, Count(1, "never-seen"));
    }

    [Fact]
    public void A_partition_never_written_reads_zero_without_creating_its_file()
    {
        Assert.Equal(0, Count(3, "t1"));
        Assert.False(File.Exists(_layout.PartitionPath(3)));
    }

    [Fact]
    public void An_owner_that_lost_its_partition_cannot_write_it_and_the_new_owner_can()
    {
        using var old = PartitionStore.Open(_layout, 2, "worker-1", Durability.Sync);
        Assert.Equal(1, old.Commit([new("a", "t")]));
        using var next = PartitionStore.Open(_layout, 2, "worker-2", Durability.Sync);
        Assert.True(next.Epoch > old.Epoch);

        // worker-1 still holds its connection and believes it owns partition 2: the store refuses it, writing nothing.
        var refused = Assert.Throws<StaleEpochException>(() => old.Commit([new("b", "t"), new("c", "t")]));
        Assert.Equal(2, refused.Partition);
        Assert.Equal(1, Count(2, "t"));

        Assert.Equal(1, next.Commit([new("b", "t"), new("a", "t")]));
        Assert.Equal(2, Count(2, "t"));
    }

    [Fact]
    public void Each_opening_takes_the_next_epoch_and_keeps_the_data()
    {
        long first;
        using (var store = PartitionStore.Open(_layout, 0, "worker-1", Durability.Sync))
        {
            first = store.Epoch;
            store.Commit([new("1", "t")]);
        }

        using var again = PartitionStore.Open(_layout, 0, "worker-1", Durability.Sync);
        Assert.Equal(first + 1, again.Epoch);
        Assert.Equal(1, Count(0, "t"));
    }

    [Fact]
    public void Sync_durability_commits_with_synchronous_normal_and_fsync_with_full()
    {
        using (var sync = PartitionStore.Open(_layout, 0, "w", Durability.Sync)) Assert.Equal(1, sync.Synchronous());
        using var fsync = PartitionStore.Open(_layout, 0, "w", Durability.Fsync);
        Assert.Equal(2, fsync.Synchronous());
    }

    [Fact]
    public void A_store_keeps_the_partition_count_it_was_created_with()
    {
        Assert.Equal(4, StoreLayout.RecordedPartitions(_layout.Folder));
        new StoreLayout(_layout.Folder, 4).EnsureCreated();
        var refused = Assert.Throws<StoreMismatchException>(() => new StoreLayout(_layout.Folder, 8).EnsureCreated());
        Assert.Contains("was created with 4 partitions and this config asks for 8", refused.Message);
        Assert.Equal(4, StoreLayout.RecordedPartitions(_layout.Folder));
    }

    [Fact]
    public async Task Group_commit_answers_each_writer_only_after_its_items_are_readable()
    {
        var writer = new PartitionWriter(PartitionStore.Open(_layout, 1, "w", Durability.Sync), Durability.Sync, TimeSpan.FromSeconds(5), TimeProvider.System);
        await using (writer)
        {
            // Each writer its own tenant, so what it reads back can only be its own items, never an earlier writer's.
            var writes = Enumerable.Range(0, 50).Select(async i =>
            {
                await writer.WriteAsync([new("a", $"t{i}"), new("a", $"t{i}"), new("b", $"t{i}"), new($"{i}", "shared")]);
                // Acknowledged: a reader on another connection sees it at once.
                Assert.Equal(2, Count(1, $"t{i}"));
            }).ToArray();
            await Task.WhenAll(writes);
            Assert.Equal(50, Count(1, "shared"));
            Assert.True(writer.Commits < 50, $"{writer.Commits} commits for 50 concurrent writes: nothing was grouped");
        }
    }

    [Fact]
    public async Task A_fenced_writer_fails_its_queued_writes_and_takes_no_more()
    {
        var writer = new PartitionWriter(PartitionStore.Open(_layout, 3, "w1", Durability.Sync), Durability.Sync, TimeSpan.FromSeconds(5), TimeProvider.System);
        await using (writer)
        {
            await writer.WriteAsync([new("1", "t")]);
            using var thief = PartitionStore.Open(_layout, 3, "w2", Durability.Sync);
            // Several writes at once after the new owner opened the partition. The first fills a whole group (the writer's
            // 50,000-item cap), so the others queue behind it and are refused without being tried.
            var full = Enumerable.Range(0, 50_000).Select(i => new Item($"full-{i}", "t")).ToList();
            var writes = new[] { writer.WriteAsync(full) }
                .Concat(Enumerable.Range(2, 9).Select(i => writer.WriteAsync([new($"{i}", "t")])))
                .ToArray();
            foreach (var write in writes)
            {
                await Assert.ThrowsAsync<StaleEpochException>(() => write.WaitAsync(TimeSpan.FromSeconds(20)));
            }

            Assert.True(writer.IsClosed);
            await Assert.ThrowsAsync<StaleEpochException>(() => writer.WriteAsync([new("3", "t")]));
            Assert.Equal(1, Count(3, "t"));
        }
    }

    [Fact]
    public async Task Periodic_durability_answers_at_once_and_persists_on_the_interval()
    {
        var time = new FakeTimeProvider();
        var writer = new PartitionWriter(PartitionStore.Open(_layout, 2, "w", Durability.Periodic), Durability.Periodic, TimeSpan.FromSeconds(5), time);
        await using (writer)
        {
            await writer.WriteAsync([new("1", "t"), new("2", "t")]).WaitAsync(TimeSpan.FromSeconds(5));
            Assert.Equal(0, Count(2, "t"));
            // Advanced on each check: the loop may not have armed its timer yet when the first advance happens.
            await Eventually.TrueAsync(() =>
            {
                time.Advance(TimeSpan.FromSeconds(5));
                return Count(2, "t") == 2;
            }, TimeSpan.FromSeconds(10), "the periodic commit");
            await writer.WriteAsync([new("3", "t")]);
        }

        // Closing commits what was taken since the last interval.
        Assert.Equal(3, Count(2, "t"));
    }
}
