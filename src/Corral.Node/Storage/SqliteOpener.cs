using System.Globalization;
using Microsoft.Data.Sqlite;

namespace Corral.Node.Storage;

/// <summary>Opens every SQLite store the same way: WAL, the durability's <c>synchronous</c>, a busy timeout, and the store's own options.</summary>
public static class SqliteOpener
{
    /// <summary>Opens <paramref name="path"/> (creating its folder when it may create the file) and sets its PRAGMAs.</summary>
    public static SqliteConnection Open(string path, SqliteStoreOptions options)
    {
        if (options.Mode == SqliteOpenMode.ReadWriteCreate)
        {
            var folder = Path.GetDirectoryName(Path.GetFullPath(path));
            if (folder is not null) Directory.CreateDirectory(folder);
        }

        var connection = new SqliteConnection(ConnectionString(path, options));
        try
        {
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = Pragmas(options);
            command.ExecuteNonQuery();
            return connection;
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }

    /// <summary>The connection string <see cref="Open"/> uses, for a store that opens its connections itself.</summary>
    public static string ConnectionString(string path, SqliteStoreOptions options)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(options.BusyTimeout, TimeSpan.Zero, nameof(options));
        return new SqliteConnectionStringBuilder
        {
            DataSource = path,
            Mode = options.Mode,
            Pooling = options.Pooling,
            DefaultTimeout = (int)Math.Ceiling(options.BusyTimeout.TotalSeconds),
        }.ToString();
    }

    /// <summary>The PRAGMAs for <paramref name="options"/>; the busy timeout comes first, so switching to WAL waits for a lock too.</summary>
    internal static string Pragmas(SqliteStoreOptions options)
    {
        var pragmas = new List<string>
        {
            $"PRAGMA busy_timeout = {(long)options.BusyTimeout.TotalMilliseconds}",
        };
        if (options.Mode != SqliteOpenMode.ReadOnly)
        {
            pragmas.Add("PRAGMA journal_mode = WAL");
        }

        pragmas.Add($"PRAGMA synchronous = {(options.Durability == Durability.Fsync ? "FULL" : "NORMAL")}");
        pragmas.Add($"PRAGMA foreign_keys = {(options.ForeignKeys ? "ON" : "OFF")}");
        if (options.CacheSizeKiB is { } cache) pragmas.Add($"PRAGMA cache_size = -{cache.ToString(CultureInfo.InvariantCulture)}");
        if (options.WalAutocheckpointPages is { } pages) pragmas.Add($"PRAGMA wal_autocheckpoint = {pages.ToString(CultureInfo.InvariantCulture)}");
        return string.Join("; ", pragmas) + ";";
    }
}
