using Microsoft.Data.Sqlite;

namespace Corral.Counter.Store;

/// <summary>
/// Reads tenants' counts from the partitions' files on read-only connections of their own. In WAL a reader sees every
/// transaction committed before its read began, and a write is acknowledged only after its commit, so a count includes
/// every acknowledged item at once (in synchronous modes).
/// </summary>
public sealed class CountReader(StoreLayout layout) : IDisposable
{
    private readonly SqliteConnection?[] _connections = new SqliteConnection?[layout.Partitions];
    private readonly object[] _locks = Enumerable.Range(0, layout.Partitions).Select(_ => new object()).ToArray();

    public long Count(int partition, string tenant)
    {
        lock (_locks[partition])
        {
            var connection = _connections[partition];
            if (connection is null)
            {
                var path = layout.PartitionPath(partition);
                // No file yet: nothing was ever written to this partition (and a read must not create one).
                if (!File.Exists(path)) return 0;
                connection = new SqliteConnection(StoreLayout.ConnectionString(path, SqliteOpenMode.ReadOnly));
                connection.Open();
                _connections[partition] = connection;
            }

            using var command = connection.CreateCommand();
            command.CommandText = "SELECT n FROM counts WHERE tenant = $tenant";
            command.Parameters.AddWithValue("$tenant", tenant);
            try
            {
                return command.ExecuteScalar() is long n ? n : 0;
            }
            catch (SqliteException e) when (e.SqliteErrorCode == 1 /* no such table: the owner is still creating it */)
            {
                return 0;
            }
        }
    }

    public void Dispose()
    {
        foreach (var connection in _connections) connection?.Dispose();
    }
}
