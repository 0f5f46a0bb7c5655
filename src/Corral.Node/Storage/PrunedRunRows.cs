using Microsoft.Data.Sqlite;

namespace Corral.Node.Storage;

/// <summary>
/// Drops a store's rows of runs whose run folder is gone (removed by <c>corral prune</c> or the retention of run
/// folders), so a store that outlives runs stays as bounded as the runs folder. Done when a store opens, in one
/// transaction; the run being opened is never touched, and nothing is dropped unless the run folder sits in a
/// <c>runs</c> folder that exists (a store opened outside a run has no folders to judge by).
/// </summary>
public static class PrunedRunRows
{
    public const string RunsFolderName = "runs";

    /// <summary>Deletes from each of <paramref name="tables"/> (each with a <c>run_id</c> column) the rows of runs with no folder; returns how many runs.</summary>
    public static int Drop(SqliteConnection connection, string runDirectory, params string[] tables)
    {
        var full = Path.TrimEndingDirectorySeparator(Path.GetFullPath(runDirectory));
        var runs = Path.GetDirectoryName(full);
        var current = Path.GetFileName(full);
        if (runs is null || Path.GetFileName(runs) != RunsFolderName || !Directory.Exists(runs))
        {
            return 0;
        }

        using var transaction = connection.BeginTransaction(deferred: false);
        var gone = new HashSet<string>(StringComparer.Ordinal);
        foreach (var table in tables)
        {
            using var select = connection.CreateCommand();
            select.Transaction = transaction;
            select.CommandText = $"SELECT DISTINCT run_id FROM {table}";
            using var reader = select.ExecuteReader();
            while (reader.Read())
            {
                var id = reader.GetString(0);
                if (id != current && IsFolderName(id) && !Directory.Exists(Path.Combine(runs, id)))
                {
                    gone.Add(id);
                }
            }
        }

        foreach (var table in tables)
        {
            using var delete = connection.CreateCommand();
            delete.Transaction = transaction;
            delete.CommandText = $"DELETE FROM {table} WHERE run_id = $run";
            var run = delete.Parameters.Add(new SqliteParameter { ParameterName = "$run" });
            foreach (var id in gone)
            {
                run.Value = id;
                delete.ExecuteNonQuery();
            }
        }

        transaction.Commit();
        return gone.Count;
    }

    // A run id that could not be a folder name is never judged by a folder's absence.
    private static bool IsFolderName(string id) => id.Length > 0 && id.IndexOfAny(['/', '\\', '\0']) < 0 && id is not ("." or "..");
}
