using Corral.Node.Storage;
using Microsoft.Data.Sqlite;

namespace Corral.Node.Tests.Storage;

public sealed class SqliteOpenerTests : IDisposable
{
    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    private static long Pragma(SqliteConnection connection, string name)
    {
        using var command = connection.CreateCommand();
        command.CommandText = $"PRAGMA {name}";
        return (long)command.ExecuteScalar()!;
    }

    private static string JournalMode(SqliteConnection connection)
    {
        using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA journal_mode";
        return (string)command.ExecuteScalar()!;
    }

    [Theory]
    [InlineData(Durability.Sync, 1)]
    [InlineData(Durability.Periodic, 1)]
    [InlineData(Durability.Fsync, 2)]
    public void Each_durability_sets_its_synchronous_level_on_a_wal_file(Durability durability, long synchronous)
    {
        var path = _folder.Combine("sub", "store.db");
        using (var connection = SqliteOpener.Open(path, new SqliteStoreOptions { Durability = durability }))
        {
            Assert.Equal(synchronous, Pragma(connection, "synchronous"));
            Assert.Equal("wal", JournalMode(connection));
        }

        // WAL is a property of the file: a plain connection opened afterwards finds it.
        using var plain = new SqliteConnection($"Data Source={path};Pooling=False");
        plain.Open();
        Assert.Equal("wal", JournalMode(plain));
    }

    [Fact]
    public void The_defaults_wait_ten_seconds_for_a_lock_keep_foreign_keys_off_and_sqlites_cache()
    {
        using var connection = SqliteOpener.Open(_folder.Combine("store.db"), new SqliteStoreOptions());

        Assert.Equal(10_000, Pragma(connection, "busy_timeout"));
        Assert.Equal(0, Pragma(connection, "foreign_keys"));
        Assert.Equal(-2000, Pragma(connection, "cache_size"));
        Assert.Equal(1000, Pragma(connection, "wal_autocheckpoint"));
    }

    [Fact]
    public void A_stores_own_options_are_set_as_asked()
    {
        var options = new SqliteStoreOptions
        {
            Durability = Durability.Fsync,
            BusyTimeout = TimeSpan.FromSeconds(30),
            CacheSizeKiB = 16 * 1024,
            WalAutocheckpointPages = 4000,
            ForeignKeys = true,
        };
        using var connection = SqliteOpener.Open(_folder.Combine("store.db"), options);

        Assert.Equal(2, Pragma(connection, "synchronous"));
        Assert.Equal(30_000, Pragma(connection, "busy_timeout"));
        Assert.Equal(-16384, Pragma(connection, "cache_size"));
        Assert.Equal(4000, Pragma(connection, "wal_autocheckpoint"));
        Assert.Equal(1, Pragma(connection, "foreign_keys"));
        Assert.Contains("Default Timeout=30", SqliteOpener.ConnectionString("x.db", options), StringComparison.Ordinal);
    }

    [Fact]
    public void A_read_only_connection_neither_creates_the_file_nor_changes_its_journal()
    {
        var path = _folder.Combine("missing.db");

        Assert.Throws<SqliteException>(() => SqliteOpener.Open(path, new SqliteStoreOptions { Mode = SqliteOpenMode.ReadOnly }));
        Assert.False(File.Exists(path));

        SqliteOpener.Open(path, new SqliteStoreOptions()).Dispose();
        using var reader = SqliteOpener.Open(path, new SqliteStoreOptions { Mode = SqliteOpenMode.ReadOnly });
        Assert.Equal("wal", JournalMode(reader));
    }
}
