using Microsoft.Data.Sqlite;
using StackExchange.Redis;

namespace Corral.WorkQueue.Store;

/// <summary>Errors a store gives while it is briefly away (Redis restarting, SQLite busy): worth a retry, not a crash.</summary>
internal static class StoreErrors
{
    public static bool IsTransient(Exception e) => e is RedisException or RedisTimeoutException or SqliteException or TimeoutException;
}
