using Corral.Node.Storage;
using Microsoft.Data.Sqlite;

namespace Corral.Node.Tests.Storage;

/// <summary>A store that outlives runs drops the rows of runs whose folder was pruned, and only those.</summary>
public sealed class PrunedRunRowsTests : IDisposable
{
    private readonly TempFolder _folder = new();
    private readonly SqliteConnection _connection;

    public PrunedRunRowsTests()
    {
        _connection = new SqliteConnection($"Data Source={_folder.Combine("store.db")}");
        _connection.Open();
        using var command = _connection.CreateCommand();
        command.CommandText = """
            CREATE TABLE a(run_id TEXT NOT NULL, x INTEGER);
            CREATE TABLE b(run_id TEXT NOT NULL, y INTEGER);
            INSERT INTO a VALUES ('kept', 1), ('pruned', 2), ('current', 3), ('../escape', 4);
            INSERT INTO b VALUES ('pruned', 5), ('only-in-b', 6), ('kept', 7);
            """;
        command.ExecuteNonQuery();
        Directory.CreateDirectory(_folder.Combine("data", "runs", "kept"));
    }

    [Fact]
    public void Rows_of_runs_without_a_folder_go_from_every_table_and_the_current_and_kept_runs_stay()
    {
        var dropped = PrunedRunRows.Drop(_connection, _folder.Combine("data", "runs", "current"), "a", "b");

        Assert.Equal(2, dropped);
        Assert.Equal(["../escape", "current", "kept"], Runs("a"));
        Assert.Equal(["kept"], Runs("b"));
    }

    [Fact]
    public void Outside_a_runs_folder_nothing_is_dropped()
    {
        Assert.Equal(0, PrunedRunRows.Drop(_connection, _folder.Combine("elsewhere", "current"), "a", "b"));
        Assert.Equal(0, PrunedRunRows.Drop(_connection, _folder.Combine("missing", "runs", "current"), "a", "b"));
        Assert.Equal(4, Runs("a").Length);
    }

    private string[] Runs(string table)
    {
        using var command = _connection.CreateCommand();
        command.CommandText = $"SELECT DISTINCT run_id FROM {table} ORDER BY run_id";
        using var reader = command.ExecuteReader();
        var runs = new List<string>();
        while (reader.Read()) runs.Add(reader.GetString(0));
        return runs.ToArray();
    }

    public void Dispose()
    {
        _connection.Dispose();
        SqliteConnection.ClearAllPools();
        _folder.Dispose();
    }
}
