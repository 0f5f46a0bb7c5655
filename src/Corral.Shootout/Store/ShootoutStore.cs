using System.Text.Json;
using Corral.Node.Storage;
using Corral.Shootout.Config;
using Corral.Shootout.Game;
using Microsoft.Data.Sqlite;

namespace Corral.Shootout.Store;

/// <summary>
/// The shootout's store: one SQLite file (WAL) under the data folder that outlives runs; every row
/// carries its run id. The history is event-sourced: the <c>events</c> table is the truth and a
/// restarted server replays it; <c>registrations</c> and <c>rounds</c> are kept beside it in the same
/// transactions for people and queries. Single-writer: only the game engine's group-commit writer calls
/// <see cref="Write"/>, inside the transaction it holds on <see cref="Connection"/>.
/// </summary>
internal sealed class ShootoutStore : IDisposable
{
    public const string FileName = "shootout.db";

    /// <summary>How long a commit waits for the write lock before the store fails (and the server restarts).</summary>
    public static readonly TimeSpan DefaultLockTimeout = TimeSpan.FromSeconds(5);

    private readonly SqliteConnection _connection;
    private readonly SqliteCommand _insertEvent;
    private readonly SqliteCommand _upsertRegistration;
    private readonly SqliteCommand _upsertRoundStart;
    private readonly SqliteCommand _updateRoundWinner;

    public ShootoutStore(string path, string runId, Durability durability = Durability.Fsync, TimeSpan? lockTimeout = null)
    {
        var timeout = lockTimeout ?? DefaultLockTimeout;
        ArgumentOutOfRangeException.ThrowIfLessThan(timeout, TimeSpan.FromSeconds(1), nameof(lockTimeout));
        Path = path;
        RunId = runId;

        // A lock held past the timeout fails the commit when it says; a WAL checkpoint every 4000 pages (default 1000)
        // keeps checkpoints off most commits of a busy game.
        _connection = SqliteOpener.Open(path, new SqliteStoreOptions { Durability = durability, BusyTimeout = timeout, WalAutocheckpointPages = 4000 });
        Execute("""
            CREATE TABLE IF NOT EXISTS runs (
                run_id TEXT PRIMARY KEY, seed INTEGER NOT NULL, config TEXT NOT NULL, created_ms INTEGER NOT NULL);
            CREATE TABLE IF NOT EXISTS events (
                run_id TEXT NOT NULL, seq INTEGER NOT NULL, round INTEGER NOT NULL, kind TEXT NOT NULL,
                shooter TEXT, target TEXT, damage INTEGER, health_before INTEGER, health_after INTEGER, tick INTEGER,
                cowboy TEXT, node TEXT, time_ticks INTEGER NOT NULL, extra TEXT,
                PRIMARY KEY (run_id, seq)) WITHOUT ROWID;
            CREATE TABLE IF NOT EXISTS registrations (
                run_id TEXT NOT NULL, cowboy TEXT NOT NULL, node_id TEXT NOT NULL, registered_ms INTEGER NOT NULL,
                PRIMARY KEY (run_id, cowboy)) WITHOUT ROWID;
            CREATE TABLE IF NOT EXISTS rounds (
                run_id TEXT NOT NULL, round INTEGER NOT NULL, started_ms INTEGER NOT NULL, winner TEXT, won_ms INTEGER,
                PRIMARY KEY (run_id, round)) WITHOUT ROWID;
            """);
        _insertEvent = Prepare("""
            INSERT INTO events (run_id, seq, round, kind, shooter, target, damage, health_before, health_after, tick, cowboy, node, time_ticks, extra)
            VALUES ($run, $seq, $round, $kind, $shooter, $target, $damage, $before, $after, $tick, $cowboy, $node, $time, $extra)
            """, "$run", "$seq", "$round", "$kind", "$shooter", "$target", "$damage", "$before", "$after", "$tick", "$cowboy", "$node", "$time", "$extra");
        _upsertRegistration = Prepare("INSERT INTO registrations (run_id, cowboy, node_id, registered_ms) VALUES ($run, $cowboy, $node, $time) ON CONFLICT (run_id, cowboy) DO UPDATE SET node_id = excluded.node_id, registered_ms = excluded.registered_ms",
            "$run", "$cowboy", "$node", "$time");
        _upsertRoundStart = Prepare("INSERT INTO rounds (run_id, round, started_ms) VALUES ($run, $round, $time) ON CONFLICT (run_id, round) DO UPDATE SET started_ms = excluded.started_ms",
            "$run", "$round", "$time");
        _updateRoundWinner = Prepare("UPDATE rounds SET winner = $winner, won_ms = $time WHERE run_id = $run AND round = $round",
            "$run", "$round", "$winner", "$time");
    }

    public string Path { get; }
    public string RunId { get; }

    /// <summary>The store's one connection, for the writer that runs its transactions.</summary>
    internal SqliteConnection Connection => _connection;

    /// <summary>The config and seed a run started with; a resumed run keeps them, whatever the topology says now.</summary>
    public (ShootoutConfig Config, long Seed) OpenRun(ShootoutConfig config, long seed, DateTimeOffset now)
    {
        using (var select = _connection.CreateCommand())
        {
            select.CommandText = "SELECT seed, config FROM runs WHERE run_id = $run";
            select.Parameters.AddWithValue("$run", RunId);
            using var reader = select.ExecuteReader();
            if (reader.Read())
            {
                return (ShootoutConfig.FromJson(JsonDocument.Parse(reader.GetString(1)).RootElement), reader.GetInt64(0));
            }
        }

        using var insert = _connection.CreateCommand();
        insert.CommandText = "INSERT INTO runs (run_id, seed, config, created_ms) VALUES ($run, $seed, $config, $time)";
        insert.Parameters.AddWithValue("$run", RunId);
        insert.Parameters.AddWithValue("$seed", seed);
        insert.Parameters.AddWithValue("$config", config.ToJson().GetRawText());
        insert.Parameters.AddWithValue("$time", now.ToUnixTimeMilliseconds());
        insert.ExecuteNonQuery();
        return (config, seed);
    }

    /// <summary>The run's history in order.</summary>
    public IReadOnlyList<GameEvent> LoadEvents(long afterSeq = 0)
    {
        using var select = _connection.CreateCommand();
        select.CommandText = """
            SELECT seq, round, kind, shooter, target, damage, health_before, health_after, tick, cowboy, node, time_ticks, extra
            FROM events WHERE run_id = $run AND seq > $after ORDER BY seq
            """;
        select.Parameters.AddWithValue("$run", RunId);
        select.Parameters.AddWithValue("$after", afterSeq);
        using var reader = select.ExecuteReader();
        var events = new List<GameEvent>();
        while (reader.Read())
        {
            string? Text(int i) => reader.IsDBNull(i) ? null : reader.GetString(i);
            int? Int(int i) => reader.IsDBNull(i) ? null : reader.GetInt32(i);
            var e = new GameEvent
            {
                Seq = reader.GetInt64(0), Round = reader.GetInt32(1), Kind = reader.GetString(2), Shooter = Text(3), Target = Text(4),
                Damage = Int(5), HealthBefore = Int(6), HealthAfter = Int(7), Tick = reader.IsDBNull(8) ? null : reader.GetInt64(8),
                Cowboy = Text(9), Node = Text(10), Time = new DateTimeOffset(reader.GetInt64(11), TimeSpan.Zero),
            };
            if (Text(12) is { } extra)
            {
                var lineUp = JsonSerializer.Deserialize(extra, GameEventJson.Default.GameEvent)!;
                e = e with { TickMs = lineUp.TickMs, Cowboys = lineUp.Cowboys };
            }

            events.Add(e);
        }

        return events;
    }

    /// <summary>Inside the writer's transaction: writes <paramref name="events"/> from index <paramref name="from"/> on; durable once it commits.</summary>
    internal void Write(List<GameEvent> events, int from)
    {
        for (var i = from; i < events.Count; i++)
        {
            var e = events[i];
            var time = e.Time.ToUnixTimeMilliseconds();

            // Compact columns rather than a JSON body: a shot is ~60 bytes of WAL instead of ~300, and the
            // write volume is what bounds group commit on a slow disk. Time keeps its full precision (ticks),
            // so a replayed history is byte-for-byte the one that was played.
            Set(_insertEvent, RunId, e.Seq, e.Round, e.Kind, Nullable(e.Shooter), Nullable(e.Target), Nullable(e.Damage), Nullable(e.HealthBefore),
                Nullable(e.HealthAfter), Nullable(e.Tick), Nullable(e.Cowboy), Nullable(e.Node), e.Time.UtcTicks,
                e.Cowboys is null ? DBNull.Value : JsonSerializer.Serialize(new GameEvent { Kind = e.Kind, Seq = e.Seq, Round = e.Round, Time = e.Time, TickMs = e.TickMs, Cowboys = e.Cowboys }, GameEventJson.Default.GameEvent));
            _insertEvent.ExecuteNonQuery();
            switch (e.Kind)
            {
                case EventKinds.Registered:
                    Set(_upsertRegistration, RunId, e.Cowboy!, e.Node!, time);
                    _upsertRegistration.ExecuteNonQuery();
                    break;
                case EventKinds.RoundStarted:
                    Set(_upsertRoundStart, RunId, e.Round, time);
                    _upsertRoundStart.ExecuteNonQuery();
                    break;
                case EventKinds.Winner:
                    Set(_updateRoundWinner, RunId, e.Round, e.Cowboy!, time);
                    _updateRoundWinner.ExecuteNonQuery();
                    break;
            }
        }
    }

    private static object Nullable<T>(T? value) => value is null ? DBNull.Value : value;

    private static object Nullable<T>(T? value) where T : struct => value is { } v ? v : DBNull.Value;

    private static void Set(SqliteCommand command, params object[] values)
    {
        for (var i = 0; i < values.Length; i++)
        {
            command.Parameters[i].Value = values[i];
        }
    }

    private SqliteCommand Prepare(string sql, params string[] parameters)
    {
        var command = _connection.CreateCommand();
        command.CommandText = sql;
        foreach (var name in parameters)
        {
            command.Parameters.Add(new SqliteParameter { ParameterName = name });
        }

        return command;
    }

    /// <summary>Drops the rows of runs whose folder next to <paramref name="runDirectory"/> is gone (<see cref="PrunedRunRows"/>).</summary>
    public int DropPrunedRuns(string runDirectory) => PrunedRunRows.Drop(_connection, runDirectory, "runs", "events", "registrations", "rounds");

    private void Execute(string sql)
    {
        using var command = _connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    public void Dispose()
    {
        _insertEvent.Dispose();
        _upsertRegistration.Dispose();
        _upsertRoundStart.Dispose();
        _updateRoundWinner.Dispose();
        _connection.Dispose();
    }
}
