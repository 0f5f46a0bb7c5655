using System.Collections.Concurrent;
using Corral.Counter.Items;
using Corral.Node.Storage;
using Microsoft.Data.Sqlite;

namespace Corral.Counter.Store;

/// <summary>A write refused because another owner opened the partition since (its epoch is newer than ours).</summary>
public sealed class StaleEpochException(int partition, long ours, long current)
    : Exception($"partition {partition} is owned at epoch {current} now; this owner holds epoch {ours} and may no longer write it")
{
    public int Partition { get; } = partition;
}

/// <summary>
/// One partition's SQLite file (WAL), opened by its owner. Opening bumps the partition's epoch (the fencing token)
/// inside a write transaction, so it waits for the previous owner's in-flight commit and every later commit of the
/// previous owner sees the newer epoch and is refused: two workers can never both write a partition, whatever their
/// views of the membership. A commit inserts items with <c>ON CONFLICT DO NOTHING</c> and adds only the new ones to
/// their tenant's count in the same transaction, so counts are exact and a resent batch changes nothing.
/// Not thread-safe: one group-commit writer uses it (<see cref="PartitionWriter"/>) through <see cref="CheckEpoch"/>,
/// <see cref="Insert"/>, <see cref="FlushCounts"/> and <see cref="PublishCounts"/>; only <see cref="Count"/> may be called from any thread.
/// </summary>
public sealed class PartitionStore : IDisposable
{
    private readonly SqliteConnection _connection;
    private readonly SqliteCommand _readEpoch;
    private readonly SqliteCommand _insert;
    private readonly SqliteCommand _addCount;
    private readonly SqliteParameter _insertTenant;
    private readonly SqliteParameter _insertId;
    private readonly SqliteParameter _countTenant;
    private readonly SqliteParameter _countDelta;
    private readonly Dictionary<string, long> _added = new(StringComparer.Ordinal);

    // The committed counts, read by request threads without touching the file (so a read never waits behind a commit):
    // loaded from the file at open, and raised only after each commit, before any of its writes is acknowledged. So
    // it is never ahead of the file and never behind an acknowledgement.
    private readonly ConcurrentDictionary<string, long> _counts;

    private PartitionStore(SqliteConnection connection, int partition, long epoch, ConcurrentDictionary<string, long> counts)
    {
        _connection = connection;
        Partition = partition;
        Epoch = epoch;
        _counts = counts;
        _readEpoch = Command("SELECT epoch FROM fence WHERE id = 1");
        _insert = Command("INSERT INTO items (tenant, id) VALUES ($tenant, $id) ON CONFLICT DO NOTHING");
        _insertTenant = _insert.Parameters.Add("$tenant", SqliteType.Text);
        _insertId = _insert.Parameters.Add("$id", SqliteType.Text);
        _addCount = Command("INSERT INTO counts (tenant, n) VALUES ($tenant, $delta) ON CONFLICT (tenant) DO UPDATE SET n = n + excluded.n");
        _countTenant = _addCount.Parameters.Add("$tenant", SqliteType.Text);
        _countDelta = _addCount.Parameters.Add("$delta", SqliteType.Integer);
    }

    public int Partition { get; }

    /// <summary>The epoch this owner got when it opened the partition.</summary>
    public long Epoch { get; }

    /// <summary>The partition's connection, for the writer that runs its transactions.</summary>
    internal SqliteConnection Connection => _connection;

    /// <summary>How the partition's file is opened: a 16 MiB page cache (default 2 MiB) keeps a busy partition's key index in memory (bulk inserts ran 3x faster in the raw benchmark).</summary>
    internal static SqliteStoreOptions Options(Durability durability) => new() { Durability = durability, CacheSizeKiB = 16 * 1024 };

    /// <summary>Opens partition <paramref name="partition"/> as its new owner, taking the next epoch.</summary>
    public static PartitionStore Open(StoreLayout layout, int partition, string owner, Durability durability)
    {
        // Sync and periodic commit with synchronous=NORMAL in WAL (a commit survives the process's death: it is in the
        // OS's page cache in the WAL); fsync also syncs the WAL at each commit, so it survives power loss.
        var connection = SqliteOpener.Open(layout.PartitionPath(partition), Options(durability));
        try
        {
            long epoch;
            using (var transaction = connection.BeginTransaction())
            using (var command = connection.CreateCommand())
            {
                command.Transaction = transaction;
                command.CommandText = """
                    CREATE TABLE IF NOT EXISTS fence (id INTEGER PRIMARY KEY CHECK (id = 1), epoch INTEGER NOT NULL, owner TEXT NOT NULL,
                        partition INTEGER NOT NULL, partitions INTEGER NOT NULL);
                    CREATE TABLE IF NOT EXISTS items (tenant TEXT NOT NULL, id TEXT NOT NULL, PRIMARY KEY (tenant, id)) WITHOUT ROWID;
                    CREATE TABLE IF NOT EXISTS counts (tenant TEXT PRIMARY KEY, n INTEGER NOT NULL) WITHOUT ROWID;
                    INSERT INTO fence (id, epoch, owner, partition, partitions) VALUES (1, 0, '', $partition, $partitions) ON CONFLICT DO NOTHING;
                    UPDATE fence SET epoch = epoch + 1, owner = $owner WHERE id = 1;
                    SELECT epoch, partition, partitions FROM fence WHERE id = 1;
                    """;
                command.Parameters.AddWithValue("$partition", partition);
                command.Parameters.AddWithValue("$partitions", layout.Partitions);
                command.Parameters.AddWithValue("$owner", owner);
                using (var reader = command.ExecuteReader())
                {
                    reader.Read();
                    epoch = reader.GetInt64(0);
                    if (reader.GetInt32(1) != partition || reader.GetInt32(2) != layout.Partitions)
                    {
                        throw new StoreMismatchException(
                            $"{layout.PartitionPath(partition)} holds partition {reader.GetInt32(1)} of {reader.GetInt32(2)}, not {partition} of {layout.Partitions}");
                    }
                }

                transaction.Commit();
            }

            return new PartitionStore(connection, partition, epoch, LoadCounts(connection));
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }

    /// <summary>Every tenant's committed count, read once when the owner opens the partition (after it took its epoch, so no other owner writes since).</summary>
    private static ConcurrentDictionary<string, long> LoadCounts(SqliteConnection connection)
    {
        var counts = new ConcurrentDictionary<string, long>(StringComparer.Ordinal);
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT tenant, n FROM counts";
        using var reader = command.ExecuteReader();
        while (reader.Read()) counts[reader.GetString(0)] = reader.GetInt64(1);
        return counts;
    }

    /// <summary>The tenant's committed count, from memory: 0 for a tenant this partition never stored.</summary>
    public long Count(string tenant) => _counts.GetValueOrDefault(tenant);

    /// <summary>
    /// Writes <paramref name="items"/> in one transaction if this owner still holds the partition; throws
    /// <see cref="StaleEpochException"/> (writing nothing) when a newer owner has opened it. Returns how many were new.
    /// </summary>
    public int Commit(IReadOnlyList<Item> items)
    {
        Execute("BEGIN IMMEDIATE");
        try
        {
            CheckEpoch();
            var total = Insert(items);
            FlushCounts();
            Execute("COMMIT");
            PublishCounts();
            return total;
        }
        catch
        {
            ForgetCounts();
            Execute("ROLLBACK");
            throw;
        }
    }

    /// <summary>Inside a transaction: throws <see cref="StaleEpochException"/> when a newer owner has opened the partition since.</summary>
    internal void CheckEpoch()
    {
        var current = (long)_readEpoch.ExecuteScalar()!;
        if (current != Epoch) throw new StaleEpochException(Partition, Epoch, current);
    }

    /// <summary>Inside a transaction: inserts the items and notes the new ones per tenant for <see cref="FlushCounts"/>; returns how many were new.</summary>
    internal int Insert(IReadOnlyList<Item> items)
    {
        var total = 0;
        foreach (var item in items)
        {
            _insertTenant.Value = item.Tenant;
            _insertId.Value = item.Id;
            if (_insert.ExecuteNonQuery() == 1)
            {
                _added[item.Tenant] = _added.GetValueOrDefault(item.Tenant) + 1;
                total++;
            }
        }

        return total;
    }

    /// <summary>Inside the transaction, once per commit: adds what <see cref="Insert"/> found new to the tenants' counts.</summary>
    internal void FlushCounts()
    {
        foreach (var (tenant, delta) in _added)
        {
            _countTenant.Value = tenant;
            _countDelta.Value = delta;
            _addCount.ExecuteNonQuery();
        }
    }

    /// <summary>After the commit and before any of its writes is answered: the flushed counts become what reads see.</summary>
    internal void PublishCounts()
    {
        // One writer: nobody else changes a tenant's count between this read and write.
        foreach (var (tenant, delta) in _added) _counts[tenant] = _counts.GetValueOrDefault(tenant) + delta;
        _added.Clear();
    }

    /// <summary>After a rollback: the noted counts were never written.</summary>
    internal void ForgetCounts() => _added.Clear();

    private void Execute(string sql)
    {
        using var command = Command(sql);
        command.ExecuteNonQuery();
    }

    /// <summary>The connection's <c>PRAGMA synchronous</c> (1 NORMAL, 2 FULL), to show which durability is in force.</summary>
    internal long Synchronous()
    {
        using var command = Command("PRAGMA synchronous");
        return (long)command.ExecuteScalar()!;
    }

    private SqliteCommand Command(string sql)
    {
        var command = _connection.CreateCommand();
        command.CommandText = sql;
        return command;
    }

    public void Dispose()
    {
        _readEpoch.Dispose();
        _insert.Dispose();
        _addCount.Dispose();
        _connection.Dispose();
    }
}
