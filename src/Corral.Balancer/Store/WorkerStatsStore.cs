using Corral.Balancer.Worker;
using Corral.Node.Metrics;
using Corral.Node.Storage;
using Microsoft.Data.Sqlite;

namespace Corral.Balancer.Store;

/// <summary>
/// The workers' statistics in SQLite (WAL): one row per run and worker id, written only by that worker, so writers
/// never contend on a row, a restarted worker carries on from its own row within the run, and a new run starts from
/// zero while earlier runs stay readable. Writes are batched: the worker upserts its row on a period and on drain.
/// A hello reply is not an acknowledged write, so a kill -9 may lose at most the counts of the last flush period;
/// a drain loses nothing.
/// </summary>
internal sealed class WorkerStatsStore
{
    /// <summary>The run id given to rows written before rows carried one (a store from an earlier version).</summary>
    public const string UnversionedRun = "before-run-ids";

    private const string Columns = """
        run_id TEXT NOT NULL,
        worker_id TEXT NOT NULL,
        successful INTEGER NOT NULL,
        failed INTEGER NOT NULL,
        total INTEGER NOT NULL,
        latency_sum_us INTEGER NOT NULL,
        mean_ms REAL NOT NULL,
        p50_ms REAL NOT NULL,
        p99_ms REAL NOT NULL,
        histogram BLOB NOT NULL,
        updated_at TEXT NOT NULL,
        PRIMARY KEY (run_id, worker_id)
        """;

    /// <summary>
    /// A connection per operation, pooled; several worker processes share the file, so a write waits 10 s for the lock
    /// instead of failing (002 lost stats to SQLITE_BUSY).
    /// </summary>
    private static readonly SqliteStoreOptions Options = new() { Durability = Durability.Sync, Pooling = true };

    private readonly string _path;

    /// <param name="runDirectory">The run's folder: when given, rows of runs whose folder is gone are dropped (<see cref="PrunedRunRows"/>).</param>
    public WorkerStatsStore(string path, string runId, string? runDirectory = null)
    {
        RunId = runId;
        _path = path;
        using var connection = Open();
        Migrate(connection);
        if (runDirectory is not null) PrunedRunRows.Drop(connection, runDirectory, "worker_stats");
    }

    /// <summary>The run this worker writes, and the one read when no other is named.</summary>
    public string RunId { get; }

    /// <summary>
    /// Creates the table, or moves a store without run ids to the keyed one in one immediate transaction (several workers
    /// of one run open the file at once: the first migrates, the others find it done).
    /// </summary>
    private static void Migrate(SqliteConnection connection)
    {
        using var transaction = connection.BeginTransaction(deferred: false);
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = "SELECT COUNT(*) FROM pragma_table_info('worker_stats')";
        var columns = Convert.ToInt64(command.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture);
        command.CommandText = "SELECT COUNT(*) FROM pragma_table_info('worker_stats') WHERE name = 'run_id'";
        var keyed = Convert.ToInt64(command.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture) > 0;
        if (columns == 0)
        {
            command.CommandText = $"CREATE TABLE worker_stats ({Columns});";
            command.ExecuteNonQuery();
        }
        else if (!keyed)
        {
            command.CommandText = $"""
                ALTER TABLE worker_stats RENAME TO worker_stats_unversioned;
                CREATE TABLE worker_stats ({Columns});
                INSERT INTO worker_stats (run_id, worker_id, successful, failed, total, latency_sum_us, mean_ms, p50_ms, p99_ms, histogram, updated_at)
                    SELECT $run, worker_id, successful, failed, total, latency_sum_us, mean_ms, p50_ms, p99_ms, histogram, updated_at
                    FROM worker_stats_unversioned;
                DROP TABLE worker_stats_unversioned;
                """;
            command.Parameters.AddWithValue("$run", UnversionedRun);
            command.ExecuteNonQuery();
        }

        transaction.Commit();
    }

    private SqliteConnection Open() => SqliteOpener.Open(_path, Options);

    public async Task SaveAsync(WorkerStatsRow row, CancellationToken cancellationToken = default)
    {
        await using var connection = Open();
        await using var command = connection.CreateCommand();
        command.CommandText = """
            INSERT INTO worker_stats (run_id, worker_id, successful, failed, total, latency_sum_us, mean_ms, p50_ms, p99_ms, histogram, updated_at)
            VALUES ($run, $id, $s, $f, $t, $sum, $mean, $p50, $p99, $h, $at)
            ON CONFLICT (run_id, worker_id) DO UPDATE SET successful = $s, failed = $f, total = $t, latency_sum_us = $sum,
                mean_ms = $mean, p50_ms = $p50, p99_ms = $p99, histogram = $h, updated_at = $at;
            """;
        command.Parameters.AddWithValue("$run", RunId);
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

    /// <summary>Every worker's row of one run (this one unless <paramref name="runId"/> names another).</summary>
    public async Task<IReadOnlyList<WorkerStatsRow>> LoadAllAsync(string? runId = null, CancellationToken cancellationToken = default)
    {
        await using var connection = Open();
        await using var command = connection.CreateCommand();
        command.CommandText = """
            SELECT worker_id, successful, failed, latency_sum_us, histogram, updated_at FROM worker_stats
            WHERE run_id = $run ORDER BY worker_id
            """;
        command.Parameters.AddWithValue("$run", runId ?? RunId);
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

    /// <summary>The runs the store holds rows of, the most recently written first.</summary>
    public async Task<IReadOnlyList<string>> RunsAsync(CancellationToken cancellationToken = default)
    {
        await using var connection = Open();
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT run_id FROM worker_stats GROUP BY run_id ORDER BY MAX(updated_at) DESC";
        var runs = new List<string>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken)) runs.Add(reader.GetString(0));
        return runs;
    }

    /// <summary>This worker's row in this run, to carry on from after a restart.</summary>
    public async Task<WorkerStatsRow?> LoadAsync(string workerId, CancellationToken cancellationToken = default) =>
        (await LoadAllAsync(null, cancellationToken)).FirstOrDefault(r => r.WorkerId == workerId);
}
