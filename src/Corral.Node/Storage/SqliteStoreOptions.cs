using Microsoft.Data.Sqlite;

namespace Corral.Node.Storage;

/// <summary>How <see cref="SqliteOpener"/> opens a store's file: the durability and the settings a store needs beyond the defaults.</summary>
public sealed record SqliteStoreOptions
{
    /// <summary>Sets <c>synchronous</c>: FULL for <see cref="Durability.Fsync"/>, NORMAL otherwise (in WAL both survive a killed process).</summary>
    public Durability Durability { get; init; } = Durability.Sync;

    /// <summary>
    /// How long a statement waits for another connection's lock before it fails. Set both as SQLite's <c>busy_timeout</c>
    /// and as Microsoft.Data.Sqlite's own retry time (30 s by default), so a lock held past it fails when it says.
    /// </summary>
    public TimeSpan BusyTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>The page cache in KiB (<c>cache_size = -N</c>); null keeps SQLite's 2 MiB.</summary>
    public int? CacheSizeKiB { get; init; }

    /// <summary>Pages of WAL after which a commit checkpoints (<c>wal_autocheckpoint</c>); null keeps SQLite's 1000.</summary>
    public int? WalAutocheckpointPages { get; init; }

    public bool ForeignKeys { get; init; }

    /// <summary>
    /// Off by default: closing must really close, so a store handed over (a drained partition) leaves no handle behind.
    /// A store that opens a connection per operation turns it on.
    /// </summary>
    public bool Pooling { get; init; }

    /// <summary>Read-only connections set no journal mode (they cannot) and never create the file.</summary>
    public SqliteOpenMode Mode { get; init; } = SqliteOpenMode.ReadWriteCreate;
}
