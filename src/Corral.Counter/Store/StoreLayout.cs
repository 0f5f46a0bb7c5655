using System.Globalization;
using Corral.Node.Storage;
using Microsoft.Data.Sqlite;

namespace Corral.Counter.Store;

/// <summary>A store that cannot be used as configured (another partition count, a file of another partition).</summary>
public sealed class StoreMismatchException(string message) : Exception(message);

/// <summary>
/// The store's folder: <c>counter.db</c> records the partition count fixed at creation, and partition <c>p</c> lives
/// in <c>partition-ppp.db</c>. Tenants never become file names, so no tenant can reach outside the folder.
/// </summary>
public sealed class StoreLayout
{
    public StoreLayout(string folder, int partitions)
    {
        Folder = Path.GetFullPath(folder);
        Partitions = partitions;
    }

    public string Folder { get; }
    public int Partitions { get; }
    public string MetaPath => Path.Combine(Folder, "counter.db");

    public string PartitionPath(int partition) => Path.Combine(Folder, $"partition-{partition.ToString("D3", CultureInfo.InvariantCulture)}.db");

    /// <summary>
    /// Without pooling (closing must really close: a drained partition leaves no handle behind for its next owner), waiting
    /// 10 s for another process's write lock (an old owner's last commit) before failing.
    /// </summary>
    public static string ConnectionString(string path, SqliteOpenMode mode = SqliteOpenMode.ReadWriteCreate) =>
        SqliteOpener.ConnectionString(path, new SqliteStoreOptions { Mode = mode });

    /// <summary>The partition count a store was created with, or null when the folder holds no store yet.</summary>
    public static int? RecordedPartitions(string folder)
    {
        var meta = Path.Combine(Path.GetFullPath(folder), "counter.db");
        if (!File.Exists(meta)) return null;
        using var connection = new SqliteConnection(ConnectionString(meta, SqliteOpenMode.ReadOnly));
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT value FROM meta WHERE key = 'partitions'";
        try
        {
            return command.ExecuteScalar() is { } value ? Convert.ToInt32(value, CultureInfo.InvariantCulture) : null;
        }
        catch (SqliteException)
        {
            return null;
        }
    }

    public static string MismatchMessage(string folder, int recorded, int asked) =>
        $"the store at {folder} was created with {recorded} partitions and this config asks for {asked}; a store's partition count " +
        $"is fixed when it is created: set partitions: {recorded}, or use another store folder";

    /// <summary>Creates the store (recording the partition count) or checks that it was created with the same count.</summary>
    public void EnsureCreated()
    {
        using var connection = SqliteOpener.Open(MetaPath, new SqliteStoreOptions { Durability = Durability.Fsync });

        using var transaction = connection.BeginTransaction();
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = """
            CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
            INSERT INTO meta (key, value) VALUES ('partitions', $partitions) ON CONFLICT (key) DO NOTHING;
            INSERT INTO meta (key, value) VALUES ('created', $created) ON CONFLICT (key) DO NOTHING;
            SELECT value FROM meta WHERE key = 'partitions';
            """;
        command.Parameters.AddWithValue("$partitions", Partitions.ToString(CultureInfo.InvariantCulture));
        command.Parameters.AddWithValue("$created", DateTimeOffset.UtcNow.ToString("O", CultureInfo.InvariantCulture));
        var recorded = Convert.ToInt32(command.ExecuteScalar(), CultureInfo.InvariantCulture);
        transaction.Commit();
        if (recorded != Partitions)
        {
            throw new StoreMismatchException(MismatchMessage(Folder, recorded, Partitions));
        }
    }
}
