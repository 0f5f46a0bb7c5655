using Corral.Hosting.Metrics;
using Microsoft.Data.Sqlite;

namespace Corral.Balancer.Worker;

/// <summary>
/// The workers' statistics in SQLite (WAL): one row per worker id, written only by that worker, so writers never
/// contend on a row and a restarted worker carries on from its own row. Writes are batched: the worker upserts its
/// row on a period and on drain. A hello reply is not an acknowledged write, so a kill -9 may lose at most the
/// counts of the last flush period; a drain loses nothing.
/// </summary>
internal sealed class WorkerStatsStore
{
    private readonly string _connectionString;

    public WorkerStatsStore(string path)
    {
        var directory = Path.GetDirectoryName(Path.GetFullPath(path));
        if (directory is not null) Directory.CreateDirectory(directory);
        _connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = path,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Pooling = true,
            DefaultTimeout = 10,
        }.ToString();
        using var connection = Open();
        using var command = connection.CreateCommand();
        command.CommandText = """
            PRAGMA journal_mode = WAL;
            CREATE TABLE IF NOT EXISTS worker_stats (
                worker_id TEXT PRIMARY KEY,
                successful INTEGER NOT NULL,
                failed INTEGER NOT NULL,
                total INTEGER NOT NULL,
                latency_sum_us INTEGER NOT NULL,
                mean_ms REAL NOT NULL,
                p50_ms REAL NOT NULL,
                p99_ms REAL NOT NULL,
                histogram BLOB NOT NULL,
                updated_at TEXT NOT NULL
            );
            """;
        command.ExecuteNonQuery();
    }

    private SqliteConnection Open()
    {
        var connection = new SqliteConnection(_connectionString);
        connection.Open();
        using var pragma = connection.CreateCommand();
        // Several worker processes share the file: wait for the write lock instead of failing (002 lost stats to SQLITE_BUSY).
        pragma.CommandText = "PRAGMA busy_timeout = 10000; PRAGMA synchronous = NORMAL;";
        pragma.ExecuteNonQuery();
        return connection;
    }

    public async Task SaveAsync(WorkerStatsRow row, CancellationToken cancellationToken = default)
    {
        await using var connection = Open();
        await using var command = connection.CreateCommand();
        command.CommandText = """
            INSERT INTO worker_stats (worker_id, successful, failed, total, latency_sum_us, mean_ms, p50_ms, p99_ms, histogram, updated_at)
            VALUES ($id, $s, $f, $t, $sum, $mean, $p50, $p99, $h, $at)
            ON CONFLICT (worker_id) DO UPDATE SET successful = $s, failed = $f, total = $t, latency_sum_us = $sum,
                mean_ms = $mean, p50_ms = $p50, p99_ms = $p99, histogram = $h, updated_at = $at;
            """;
        command.Parameters.AddWithValue("$id", row.WorkerId);
        command.Parameters.AddWithValue("$s", row.Successful);
        command.Parameters.AddWithValue("$f", row.Failed);
        command.Parameters.AddWithValue("$t", row.Total);
        command.Parameters.AddWithValue("$sum", row.LatencySumMicros);
        command.Parameters.AddWithValue("$mean", row.MeanMs);
        command.Parameters.AddWithValue("$p50", row.P50Ms);
        command.Parameters.AddWithValue("$p99", row.P99Ms);
        command.Parameters.AddWithValue("$h", row.Histogram);
        command.Parameters.AddWithValue("$at", row.UpdatedAt.ToString("O"));
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    public async Task<IReadOnlyList<WorkerStatsRow>> LoadAllAsync(CancellationToken cancellationToken = default)
    {
        await using var connection = Open();
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT worker_id, successful, failed, latency_sum_us, histogram, updated_at FROM worker_stats ORDER BY worker_id";
        var rows = new List<WorkerStatsRow>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            var histogram = (byte[])reader.GetValue(4);
            var sum = reader.GetInt64(3);
            var latency = LatencyHistogram.FromBytes(histogram, sum);
            rows.Add(new WorkerStatsRow
            {
                WorkerId = reader.GetString(0),
                Successful = reader.GetInt64(1),
                Failed = reader.GetInt64(2),
                LatencySumMicros = sum,
                MeanMs = latency.MeanMs,
                P50Ms = latency.PercentileMs(0.5),
                P99Ms = latency.PercentileMs(0.99),
                UpdatedAt = DateTimeOffset.Parse(reader.GetString(5), System.Globalization.CultureInfo.InvariantCulture),
                Histogram = histogram,
            });
        }

        return rows;
    }

    public async Task<WorkerStatsRow?> LoadAsync(string workerId, CancellationToken cancellationToken = default) =>
        (await LoadAllAsync(cancellationToken)).FirstOrDefault(r => r.WorkerId == workerId);
}
